using System.Diagnostics;
using TraceProf.Encoding;
using TraceProf.Kinds.Heap;
using Xunit.Abstractions;

using TraceProf.Tests.Encoding;

namespace TraceProf.Tests.Kinds.Heap;

/// <summary>The real <c>go tool pprof</c> reads heap snapshots: what holds the bytes, and what grew.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class HeapGoToolPprofTests(ITestOutputHelper output) : IDisposable
{
    private const string NoGo = "'go' is not on PATH, so 'go tool pprof' cannot be run; install Go (apt-get install golang-go) to run this test.";

    private readonly string _folder = Directory.CreateTempSubdirectory("traceprof-heap-pprof-").FullName;
    private readonly string? _go = GoPprof.Go;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableFact]
    public async Task GoToolPprof_InuseSpaceTopCum_ShowsTheTypesThatHoldTheLeak()
    {
        Skip.If(_go is null, NoGo);
        HeapLeaks.LeakOrders(2_000);
        var file = Write("heap.pb.gz", (await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None)).Profile);

        var top = await RunPprofAsync($"-sample_index=inuse_space -top -cum -nodecount=200 {file}");
        output.WriteLine(top);
        Assert.Contains("Type: inuse_space", top, StringComparison.Ordinal);
        var order = typeof(LeakedOrder).FullName!;
        var holders = Row(top, order + "[]");
        Assert.NotNull(holders);

        // The array of orders holds at least the leaked orders and their payloads (cum column, bytes).
        Assert.True(holders.Value.Cum >= HeapLeaks.Orders.Count * (32L + 24 + HeapLeaks.PayloadBytes), top);
        Assert.NotNull(Row(top, "[static]"));
        Assert.NotNull(Row(top, order));
    }

    [SkippableFact]
    public async Task GoToolPprofBase_ShowsWhatGrewBetweenTwoSnapshots()
    {
        Skip.If(_go is null, NoGo);
        HeapLeaks.Grow(1_000);
        var before = Write("heap1.pb.gz", (await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None)).Profile);
        HeapLeaks.Grow(3_000);
        var after = Write("heap2.pb.gz", (await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None)).Profile);

        var top = await RunPprofAsync($"-base {before} -sample_index=inuse_objects -top -nodecount=200 {after}");
        output.WriteLine(top);
        var grew = Row(top, typeof(GrowingOrder).FullName!);
        Assert.NotNull(grew);
        Assert.Equal(3_000, grew.Value.Flat);
        Assert.Null(Row(top, typeof(StableCustomer).FullName!));
    }

    [SkippableFact]
    public async Task GoToolPprof_KeepsGenericHoldersApart_WhenSystemNameDiffersFromName()
    {
        // pprof's demangler treats a name with <…> as demangled C++ and removes the template arguments
        // (List<Order> → List, every list one frame) unless the function's system_name differs from its name.
        // Today's encoder writes the same string to both; this pins what it must do for heap paths.
        Skip.If(_go is null, NoGo);
        HeapLeaks.LeakOrders(100);
        var profile = (await new HeapSnapshotCapture().CaptureAsync(CancellationToken.None)).Profile;
        var list = $"System.Collections.Generic.List<{typeof(LeakedOrder).FullName}>";

        var proto = PprofEncoder.ToProto(profile);
        foreach (var function in proto.Function)
        {
            function.SystemName = 0;
        }

        var file = Path.Combine(_folder, "named.pb.gz");
        using (var gzip = new System.IO.Compression.GZipStream(File.Create(file), System.IO.Compression.CompressionLevel.Fastest))
        {
            Google.Protobuf.MessageExtensions.WriteTo(proto, gzip);
        }

        var named = await RunPprofAsync($"-sample_index=inuse_space -top -nodecount=500 {file}");
        output.WriteLine(named);
        Assert.NotNull(Row(named, list));
    }

    private string Write(string name, TraceProf.Profiles.Profile profile)
    {
        var file = Path.Combine(_folder, name);
        File.WriteAllBytes(file, PprofEncoder.Encode(profile));
        return file;
    }

    /// <summary>The flat and cum values of the row for <paramref name="name"/> in <c>-top</c> output (units as pprof prints them, B/kB/MB scaled back).</summary>
    private static (double Flat, double Cum)? Row(string top, string name)
    {
        foreach (var line in top.Split('\n'))
        {
            var columns = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (columns.Length == 6 && columns[5] == name)
            {
                return (Value(columns[0]), Value(columns[3]));
            }
        }

        return null;
    }

    private static double Value(string text)
    {
        var units = new (string Suffix, double Scale)[] { ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10), ("B", 1) };
        foreach (var (suffix, scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                return double.Parse(text[..^suffix.Length], System.Globalization.CultureInfo.InvariantCulture) * scale;
            }
        }

        return double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    // The file is the last argument, as go tool pprof takes it; everything before it is options.
    private Task<string> RunPprofAsync(string arguments)
    {
        var parts = arguments.Split(' ');
        return GoPprof.RunAsync(_folder, parts[^1], parts[..^1]);
    }
}
