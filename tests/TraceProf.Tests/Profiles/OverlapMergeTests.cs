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
}
