using TraceProf.Kinds;
using TraceProf.Kinds.Threads;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Tests.Parsing;

namespace TraceProf.Tests.Attribution;

/// <summary>TraceProf's own threads are labelled <c>thread_role=traceprof</c> in a real capture; the application's are not.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class OwnThreadLabelTests(NamingCapture capture) : IClassFixture<NamingCapture>
{
    private static readonly ProfileLabel Own = new("thread_role", "traceprof");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CpuProfile_OwnThreadsCarryThreadRole_AppThreadsDoNot(bool traceLog)
    {
        var profile = ProfileParser.Parse(
            CaptureKind.Cpu,
            capture.NettracePath,
            new ParseOptions { TempDirectory = capture.Folder.Path, ThreadName = ThreadNames.OfThisProcess },
            traceLog ? ProfileParser.CpuParser.TraceLog : ProfileParser.CpuParser.Streaming,
            CancellationToken.None);

        var tagged = profile.Samples.Where(s => s.Labels.Contains(Own)).ToList();
        var untagged = profile.Samples.Where(s => !s.Labels.Contains(Own)).ToList();
        Assert.Contains(tagged, s => NameOf(s) == NamingCapture.OwnThreadName);
        Assert.All(tagged, s => Assert.StartsWith("TraceProf", NameOf(s), StringComparison.Ordinal));
        Assert.NotEmpty(untagged);
        Assert.All(untagged, s => Assert.False(NameOf(s)?.StartsWith("TraceProf", StringComparison.Ordinal) ?? false));
    }

    [Fact]
    public void WithoutThreadNames_NoThreadRole()
    {
        var profile = ProfileParser.Parse(CaptureKind.Cpu, capture.NettracePath, new ParseOptions { TempDirectory = capture.Folder.Path }, CancellationToken.None);
        Assert.DoesNotContain(profile.Samples, s => s.Labels.Contains(Own));
    }

    private static string? NameOf(ProfileSample sample) =>
        ThreadNames.OfThisProcess(int.Parse(sample.Labels.Single(l => l.Key == "thread_id").Value, System.Globalization.CultureInfo.InvariantCulture));
}
