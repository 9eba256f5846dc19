using System.Reflection;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Parsing.Lines;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Tests.Encoding;
using Xunit.Abstractions;

namespace TraceProf.Tests.Parsing;

/// <summary>One real capture of <see cref="SourceLineWorkload"/> on two threads for 1.5 s, shared by a test class.</summary>
public sealed class SourceLineCapture : IDisposable
{
    public SourceLineCapture()
    {
        Folder = new TempFolder();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 2).Select(_ => new Thread(() => SourceLineWorkload.SpinOnOneLine(stop.Token)) { IsBackground = true }).ToList();
        workers.ForEach(t => t.Start());
        NettracePath = new EventPipeCaptureSource()
            .CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(1.5), Folder.File("lines.nettrace"), CancellationToken.None)
            .GetAwaiter().GetResult().NettracePath;
        stop.Cancel();
        workers.ForEach(t => t.Join());
    }

    public TempFolder Folder { get; }

    public string NettracePath { get; }

    public void Dispose() => Folder.Dispose();
}

/// <summary>
/// Source lines from the test assembly's own portable PDB: a real capture's hot method carries its hot line through
/// both parsers, pprof and the real <c>go tool pprof -list</c>; code without a PDB keeps its name and no line.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class SourceLinesCaptureTests(SourceLineCapture capture, ITestOutputHelper output) : IClassFixture<SourceLineCapture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HotMethod_CarriesItsHotSourceLine_BothParsers(bool traceLog)
    {
        var profile = Parse(traceLog ? ProfileParser.CpuParser.TraceLog : ProfileParser.CpuParser.Streaming);
        var byLine = LeafSamplesByLine(profile);
        output.WriteLine($"{SourceLineWorkload.SourceFile}: hot line {SourceLineWorkload.HotLine}; leaf samples by line: {string.Join(", ", byLine.Select(l => $"{l.Key}={l.Value}"))}");
        output.WriteLine(profile.Comments[^1]);

        Assert.NotEmpty(byLine);
        Assert.Equal(SourceLineWorkload.HotLine, byLine.MaxBy(l => l.Value).Key);
    }

    [Fact]
    public void DecodedPprof_KeepsFileAndLine_AndTheModuleAsMapping()
    {
        var decoded = PprofDecoder.Decode(PprofEncoder.Encode(Parse(ProfileParser.CpuParser.Streaming)));

        Assert.Contains(decoded.Frames, f => f.FunctionName == SourceLineWorkload.MethodName && f.SourceFile == SourceLineWorkload.SourceFile
            && f.SourceLine == SourceLineWorkload.HotLine && f.ModuleName == "TraceProf.Tests");
    }

    [Fact]
    public void CodeWithoutPdb_KeepsItsName_WithoutALine()
    {
        // System.Private.CoreLib ships no PDB beside it: its frames are named, and have no line.
        var profile = Parse(ProfileParser.CpuParser.Streaming);
        var coreLib = profile.Frames.Where(f => f.ModuleName == "System.Private.CoreLib").ToList();

        Assert.NotEmpty(coreLib);
        Assert.All(coreLib, f => Assert.True(f.SourceLine == 0 && f.SourceFile.Length == 0 && !f.FunctionName.StartsWith('?'), f.ToString()));
    }

    [SkippableFact]
    public async Task GoToolPprofList_ShowsTheHotLineWithItsTime()
    {
        Skip.If(GoPprof.Go is null, GoPprof.NoGo);
        var file = capture.Folder.File("lines.pb.gz");
        await File.WriteAllBytesAsync(file, PprofEncoder.Encode(Parse(ProfileParser.CpuParser.Streaming)));

        var list = await GoPprof.RunAsync(capture.Folder.Path, file, [.. SourceLineWorkload.PprofSourceOptions(), "-list", "SourceLineWorkload.SpinOnOneLine"]);
        output.WriteLine(list);

        // "     1.20s      1.20s     27:            for (...) { ... } // the hot line": time in the flat column.
        var hot = list.Split('\n').Single(l => l.Contains(SourceLineWorkload.Marker, StringComparison.Ordinal) && l.Contains($" {SourceLineWorkload.HotLine}:", StringComparison.Ordinal));
        var flat = hot.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.True(flat != "." && flat.EndsWith('s'), hot);
    }

    [Fact]
    public void SourceLines_FindTheAssemblysPdb_AndNoneWithoutIt()
    {
        using var folder = new TempFolder();
        var assembly = typeof(SourceLineWorkload).Assembly.Location;
        var token = typeof(SourceLineWorkload).GetMethod(nameof(SourceLineWorkload.SpinOnOneLine))!.MetadataToken;
        var copy = folder.File(Path.GetFileName(assembly));
        File.Copy(assembly, copy);

        // A fresh cache each time: the shared one remembers a module it found without a PDB.
        Assert.False(new SourceLines().TryFind(copy, Guid.Empty, token, 0, out _, out _));

        File.Copy(Path.ChangeExtension(assembly, ".pdb"), Path.ChangeExtension(copy, ".pdb"));
        Assert.True(new SourceLines().TryFind(copy, Guid.Empty, token, 0, out var file, out var line));
        Assert.Equal(SourceLineWorkload.SourceFile, file);
        Assert.InRange(line, 1, SourceLineWorkload.HotLine);

        // The id the runtime reports for the module must be the PDB's: another build's PDB gives no lines.
        Assert.False(new SourceLines().TryFind(copy, Guid.NewGuid(), token, 0, out _, out _));
    }

    private static Dictionary<int, long> LeafSamplesByLine(Profile profile)
    {
        var byLine = new Dictionary<int, long>();
        foreach (var sample in profile.Samples)
        {
            var leaf = sample.Stack.Count > 0 ? profile.Frames[sample.Stack[0]] : null;
            if (leaf is { FunctionName: SourceLineWorkload.MethodName, SourceLine: > 0 } && leaf.SourceFile == SourceLineWorkload.SourceFile)
            {
                byLine[leaf.SourceLine] = byLine.GetValueOrDefault(leaf.SourceLine) + sample.Values[0];
            }
        }

        return byLine;
    }

    private Profile Parse(ProfileParser.CpuParser parser) =>
        ProfileParser.Parse(CaptureKind.Cpu, capture.NettracePath, new ParseOptions { TempDirectory = capture.Folder.Path }, parser, CancellationToken.None);
}
