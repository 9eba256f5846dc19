using TraceProf.Attribution;
using TraceProf.Profiles;
using TraceProf.Tests.Encoding;

namespace TraceProf.Tests.Profiles;

/// <summary>
/// <see cref="OverlapMerge"/>: two snapshots of one process that hold the same sampler events keep one copy of each
/// (thread, time bucket); the fuller copy wins; other hosts and unbucketed samples are never dropped.
/// </summary>
public sealed class OverlapMergeTests
{
    private static readonly ProfileLabel Trace = new("trace_id", "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1");

    [Fact]
    public void Merge_SameThreadAndBucketInTwoSnapshots_KeepsTheFullerCopyOnce()
    {
        // Capture: buckets 100 and 110 complete (5 and 4 events). Recorder cut: bucket 100 cut short (3), 110 complete, 120 only in it.
        var capture = Profile(("11", "100", 5), ("11", "110", 4));
        var recorder = Profile(("11", "100", 3), ("11", "110", 4), ("11", "120", 2));
        var merged = OverlapMerge.Merge(
            [Part(capture, "capture", "shop\nh1"), Part(recorder, "recorder", "shop\nh1")],
            keep: null,
            contributions => [OverlapMerge.Describe(contributions)],
            out var used);

        Assert.Equal(5 + 4 + 2, merged.Total(0));
        Assert.Equal(new MergeContribution("capture", 9, 0, 0), used[0]);
        Assert.Equal(new MergeContribution("recorder", 2, 7, 0), used[1]);
        Assert.Equal("Each sample once: 2 of 2 snapshot(s) contributed: capture (9 kept); recorder (2 kept, 7 already in another snapshot).", Assert.Single(merged.Comments));
    }

    [Fact]
    public void Merge_OtherHostOrThreadOrNoBucket_KeepsEverything()
    {
        var a = Profile(("11", "100", 5), ("12", "100", 1), ("11", null, 7));
        var b = Profile(("11", "100", 5));
        var otherHost = OverlapMerge.Merge([Part(a, "a", "shop\nh1"), Part(b, "b", "shop\nh2")], null, _ => [], out _);
        Assert.Equal(5 + 1 + 7 + 5, otherHost.Total(0));

        var sameHost = OverlapMerge.Merge([Part(a, "a", "shop\nh1"), Part(b, "b", "shop\nh1")], null, _ => [], out var used);
        Assert.Equal(5 + 1 + 7, sameHost.Total(0));
        Assert.Equal(7, used[0].Unbucketed);
    }

    [Fact]
    public void Merge_TwoPerfCpuSnapshotsOfOneStretch_KeepOneCopyPer100MsWindow_NotBoth()
    {
        // Two perf_event samplers sample thread 11 independently: 100 Hz each, different phases, so their samples fall in
        // different 10 ms buckets of the same 100 ms. EventPipe's rule (per bucket) would keep both: twice the time.
        var capture = PerfProfile(("11", "1000", 1), ("11", "1020", 1), ("11", "1040", 1), ("11", "1060", 1), ("11", "1100", 1));
        var recorder = PerfProfile(("11", "1010", 1), ("11", "1030", 1), ("11", "1050", 1), ("11", "1110", 1), ("11", "1130", 1), ("11", "1200", 1));
        var merged = OverlapMerge.Merge([Part(capture, "capture", "g"), Part(recorder, "recorder", "g")], null, _ => [], out var used);

        // Window 1000: capture 4, recorder 3 → capture's 4. Window 1100: 1 vs 2 → recorder's 2. Window 1200: recorder's 1.
        Assert.Equal(4 + 2 + 1, merged.Total(0));
        Assert.Equal(new MergeContribution("capture", 4, 1, 0), used[0]);
        Assert.Equal(new MergeContribution("recorder", 3, 3, 0), used[1]);

        // EventPipe snapshots keep the per-bucket rule: these buckets are all different, so nothing is dropped.
        var eventPipe = OverlapMerge.Merge([Part(Profile(("11", "1000", 1)), "a", "g"), Part(Profile(("11", "1010", 1)), "b", "g")], null, _ => [], out _);
        Assert.Equal(2, eventPipe.Total(0));
    }

    [Fact]
    public void Merge_KeepFilterAppliesBeforeCounting()
    {
        var a = Profile(("11", "100", 5));
        var b = Profile(("11", "100", 2));
        var merged = OverlapMerge.Merge([Part(a, "a", "g"), Part(b, "b", "g")], s => s.Values[0] < 5, _ => [], out var used);
        Assert.Equal(2, merged.Total(0));
        Assert.Equal(0, used[0].Kept);
    }

    [Fact]
    public void SampleClock_SameTimestamp_SameBucket_AMultipleOfTheWidth()
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.Equal(SampleClock.BucketOf(now), SampleClock.BucketOf(now));
        Assert.Equal(0, SampleClock.BucketOf(now) % SampleClock.BucketMilliseconds);
        var unixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.InRange(SampleClock.BucketOf(now), unixMs - 1000, unixMs + 1000);
    }

    private static MergePart Part(Profile profile, string source, string group) => new(profile, [], source, group);

    private static Profile Profile(params (string Thread, string? Bucket, long Events)[] rows)
    {
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex);
        foreach (var (thread, bucket, events) in rows)
        {
            ProfileLabel[] labels = bucket is null
                ? [new("thread_id", thread), Trace]
                : [new("thread_id", thread), Trace, new(SpanLabels.TimeBucket, bucket)];
            builder.Add([ShopProfile.Hot], [events, events * 10, events * 10], labels);
        }

        return builder.Build();
    }

    private static Profile PerfProfile(params (string Thread, string Bucket, long Events)[] rows)
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples, WellKnownSampleTypes.Cpu], 1);
        foreach (var (thread, bucket, events) in rows)
        {
            builder.Add([ShopProfile.Hot], [events, events * 10_000_000], [new("thread_id", thread), Trace, new(SpanLabels.TimeBucket, bucket)]);
        }

        return builder.Build();
    }
}
