using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Kinds.Cpu;
using TraceProf.Kinds;
using TraceProf.Parsing.Streaming;
using TraceProf.Parsing;
using TraceProf.Pipeline;

namespace TraceProf.Tests.Parsing.Streaming;

public sealed class NettraceReaderTests
{
    [Fact]
    public void Streaming_FileThatIsNotANettrace_ThrowsInvalidDataException()
    {
        using var folder = new TempFolder();
        var path = folder.File("not.nettrace");
        File.WriteAllText(path, "this is not an EventPipe capture, just some text that is long enough");

        var error = Assert.Throws<InvalidDataException>(() => StreamingCpuProfileParser.Parse(path, new ParseOptions(), SampleAttributor.WithoutSpans(), CancellationToken.None));
        Assert.Contains("not.nettrace", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => ProfileParser.Parse(CaptureKind.Cpu, path, new ParseOptions { TempDirectory = folder.Path }, CancellationToken.None));
    }

    [Fact]
    public void Streaming_EmptyOrMissingFile_ThrowsInvalidDataException()
    {
        using var folder = new TempFolder();
        var empty = folder.File("empty.nettrace");
        File.WriteAllBytes(empty, []);

        Assert.Throws<InvalidDataException>(() => StreamingCpuProfileParser.Parse(empty, new ParseOptions(), SampleAttributor.WithoutSpans(), CancellationToken.None));
        Assert.Throws<InvalidDataException>(() => StreamingCpuProfileParser.Parse(folder.File("missing.nettrace"), new ParseOptions(), SampleAttributor.WithoutSpans(), CancellationToken.None));
    }
}
