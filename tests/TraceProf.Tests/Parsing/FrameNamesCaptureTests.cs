using System.Text.Json;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Tests.Encoding;
using Xunit.Abstractions;

namespace TraceProf.Tests.Parsing;

/// <summary>
/// A real capture of <see cref="PricingEngine"/>: its async, iterator, lambda, local-function and generic methods
/// carry their C# names in every output, through both parsers and through the real <c>go tool pprof</c>; the
/// runtime's async plumbing between them is folded unless raw frames are asked for.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FrameNamesCaptureTests(NamingCapture capture, ITestOutputHelper output) : IClassFixture<NamingCapture>
{
    private const string Engine = "TraceProf.Tests.Parsing.PricingEngine";

    /// <summary>Each purpose-built method and the display name it must have.</summary>
    public static readonly TheoryData<string> ExpectedNames = new()
    {
        Engine + ".CheckoutAsync",
        Engine + ".QuoteAsync",
        Engine + ".Prices",
        Engine + ".WithLambda.lambda",
        Engine + ".WithLocalFunction.Discount",
        Engine + ".Sum",
        Engine + ".QuoteGenericAsync",
        "TraceProf.Tests.Parsing.PriceList<T>.Add",
        "TraceProf.Tests.Parsing.PriceList<T>.RecalculateAsync",
    };

    [Theory]
    [MemberData(nameof(ExpectedNames))]
    public void DecodedPprof_NamesTheMethodAsWritten_BothParsers(string name)
    {
        foreach (var parser in new[] { ProfileParser.CpuParser.Streaming, ProfileParser.CpuParser.TraceLog })
        {
            var decoded = PprofDecoder.Decode(PprofEncoder.Encode(Parse(parser)));
            Assert.Contains(decoded.Frames, f => f.FunctionName == name);
        }
    }

    [Fact]
    public void Pprof_SystemNameKeepsTheRuntimeSignature()
    {
        var proto = PprofEncoder.ToProto(Parse(ProfileParser.CpuParser.Streaming));
        var functions = proto.Function.Select(f => (Name: proto.StringTable[(int)f.Name], System: proto.StringTable[(int)f.SystemName])).ToList();

        var quote = functions.Where(f => f.Name == Engine + ".QuoteAsync").Select(f => f.System).ToList();
        Assert.Contains(quote, s => s.StartsWith(Engine + "+<QuoteAsync>d__", StringComparison.Ordinal) && s.EndsWith(".MoveNext()", StringComparison.Ordinal));
        Assert.Contains(functions, f => f.Name == Engine + ".WithLambda.lambda" && f.System.StartsWith(Engine + "+<>c.<WithLambda>b__", StringComparison.Ordinal) && f.System.EndsWith("(int32)", StringComparison.Ordinal));
        Assert.Contains(functions, f => f.Name == "TraceProf.Tests.Parsing.PriceList<T>.Add" && f.System == "TraceProf.Tests.Parsing.PriceList`1[System.__Canon].Add(!0)");

        // No display name carries a parameter list or an address.
        Assert.DoesNotContain(functions, f => f.Name.Contains('(', StringComparison.Ordinal) || f.Name.Contains("pMT", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ExpectedNames))]
    public void SpeedscopeAndFolded_UseTheSameNames(string name)
    {
        var profile = Parse(ProfileParser.CpuParser.Streaming);
        using var json = new MemoryStream();
        SpeedscopeEncoder.Write(profile, json, "names");
        using var document = JsonDocument.Parse(json.ToArray());
        var frames = document.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Contains(name, frames);

        using var folded = new MemoryStream();
        FoldedEncoder.Write(profile, folded);
        var lines = System.Text.Encoding.UTF8.GetString(folded.ToArray()).Split('\n');
        Assert.Contains(lines, l => l[..Math.Max(0, l.LastIndexOf(' '))].Split(';').Contains(name));
    }

    [SkippableFact]
    public async Task GoToolPprofTop_ShowsTheCSharpNames()
    {
        Skip.If(GoPprof.Go is null, GoPprof.NoGo);
        var file = capture.Folder.File("names.pb.gz");
        await File.WriteAllBytesAsync(file, PprofEncoder.Encode(Parse(ProfileParser.CpuParser.Streaming)));

        var top = await GoPprof.RunAsync(capture.Folder.Path, file, "-top", "-nodefraction=0", "-nodecount=100000");
        output.WriteLine(string.Join('\n', top.Split('\n').Where(l => l.Contains("TraceProf.Tests.Parsing", StringComparison.Ordinal) || l.Contains("flat%", StringComparison.Ordinal) || l.StartsWith("File:", StringComparison.Ordinal))));
        var names = top.Split('\n')
            .Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(c => c.Length == 6)
            .Select(c => c[5])
            .ToHashSet(StringComparer.Ordinal);
        foreach (var name in ExpectedNames)
        {
            Assert.Contains(name, names);
        }

        // Mapping 0 is the program: the test host here, ShopDemo in the sample.
        Assert.Contains($"File: {System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name}\n", top, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Default_AwaitedMethodSitsRightUnderItsCaller_NoPlumbingBetween(bool traceLog)
    {
        var profile = Parse(traceLog ? ProfileParser.CpuParser.TraceLog : ProfileParser.CpuParser.Streaming);
        var stacks = profile.Samples.Select(s => s.Stack.Select(id => profile.Frames[id].FunctionName).ToList()).ToList();

        // Leaf first: QuoteAsync (state machine and kick-off method, one frame) called by CheckoutAsync.
        Assert.Contains(stacks, s => Adjacent(s, Engine + ".QuoteAsync", Engine + ".CheckoutAsync"));
        Assert.DoesNotContain(stacks, s => Adjacent(s, Engine + ".QuoteAsync", Engine + ".QuoteAsync"));
        Assert.DoesNotContain(profile.Frames, f => FrameRules.IsAsyncPlumbing(f.FunctionName));
        Assert.DoesNotContain(profile.Frames, f => f.FunctionName.Contains("ExecutionContext.Run", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RawFrames_KeepsThePlumbing(bool traceLog)
    {
        var profile = Parse(traceLog ? ProfileParser.CpuParser.TraceLog : ProfileParser.CpuParser.Streaming, raw: true);
        var names = profile.Frames.Select(f => f.FunctionName).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("System.Runtime.CompilerServices.AsyncMethodBuilderCore.Start", names);
        Assert.Contains("System.Threading.ExecutionContext.RunInternal", names);
        Assert.Contains("System.Threading.ThreadPoolWorkQueue.Dispatch", names);
        var stacks = profile.Samples.Select(s => s.Stack.Select(id => profile.Frames[id].FunctionName).ToList()).ToList();
        // Which builder frame sits right above the state machine depends on what the JIT inlined by then.
        Assert.Contains(stacks, s => Enumerable.Range(0, s.Count - 1).Any(i => s[i] == Engine + ".QuoteAsync" && FrameRules.IsAsyncPlumbing(s[i + 1])));
    }

    private static bool Adjacent(List<string> stack, string callee, string caller)
    {
        for (var i = 0; i + 1 < stack.Count; i++)
        {
            if (stack[i] == callee && stack[i + 1] == caller)
            {
                return true;
            }
        }

        return false;
    }

    private Profile Parse(ProfileParser.CpuParser parser, bool raw = false) => ProfileParser.Parse(
        CaptureKind.Cpu,
        capture.NettracePath,
        new ParseOptions { TempDirectory = capture.Folder.Path, RawFrames = raw },
        parser,
        CancellationToken.None);
}
