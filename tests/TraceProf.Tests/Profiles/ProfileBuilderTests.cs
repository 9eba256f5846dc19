using TraceProf.Profiles;

using TraceProf.Tests.Encoding;

namespace TraceProf.Tests.Profiles;

/// <summary>
/// <see cref="ProfileBuilder"/> folds events into samples. These live with the encoding tests because every encoder
/// relies on this aggregation (one sample per stack and label set).
/// </summary>
public sealed class ProfileBuilderTests
{
    private static readonly ProfileLabel Thread11 = new("thread_id", "11");
    private static readonly ProfileLabel Thread12 = new("thread_id", "12");
    private static readonly ProfileLabel Trace = new("capture_trace_id", ShopProfile.TraceId);

    [Fact]
    public void ProfileBuilder_AddsValuesOfEventsWithTheSameStackAndLabels()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), [Thread11, Trace]);
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(2, 1), [Thread11, Trace]);

        var sample = Assert.Single(builder.Build().Samples);

        Assert.Equal(ShopProfile.Ticks(3, 2), sample.Values);
    }

    [Fact]
    public void ProfileBuilder_LabelOrderDoesNotMatter()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), [Thread11, Trace]);
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), [Trace, Thread11]);

        var sample = Assert.Single(builder.Build().Samples);

        Assert.Equal(2, sample.Values[0]);
        Assert.Equal([Trace, Thread11], sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void ProfileBuilder_KeepsDifferentLabelsApart()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), [Thread11, Trace]);
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(2, 2), [Thread12, Trace]);
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(4, 4), [Thread12]);
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(8, 8), []);

        var profile = builder.Build();

        Assert.Equal(4, profile.Samples.Count);
        Assert.Equal([1L, 2, 4, 8], profile.Samples.Select(s => s.Values[0]).Order());
        Assert.Equal(15, profile.Total(0));
    }

    [Fact]
    public void ProfileBuilder_KeepsDifferentStacksApart()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), [Thread11]);
        builder.Add(ShopProfile.CartStack, ShopProfile.Ticks(1, 1), [Thread11]);

        // The same frames in the other order are a different stack.
        builder.Add([.. ShopProfile.OrderStack.Reverse()], ShopProfile.Ticks(1, 1), [Thread11]);

        Assert.Equal(3, builder.Build().Samples.Count);
    }

    [Fact]
    public void ProfileBuilder_InternsEachFrameOnce()
    {
        var profile = ShopProfile.Build();
        Assert.Equal(profile.Frames.Count, profile.Frames.Distinct().Count());
        Assert.Equal(9, profile.Frames.Count);
        var hot = ShopProfile.FrameIndex(profile, ShopProfile.HotMethod);
        Assert.All(profile.Samples.Where(s => profile.Frames[s.Stack[0]] == ShopProfile.Hot), s => Assert.Equal(hot, s.Stack[0]));
    }

    [Fact]
    public void ProfileBuilder_KeepsStacksLeafFirst()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), []);
        var profile = builder.Build();
        Assert.Equal(ShopProfile.OrderStack, Assert.Single(profile.Samples).Stack.Select(id => profile.Frames[id]));
    }

    [Fact]
    public void ProfileBuilder_WrongValueCountThrows()
    {
        var builder = ShopProfile.NewBuilder();
        var ex = Assert.Throws<ArgumentException>(() => builder.Add(ShopProfile.OrderStack, [1, 2], []));
        Assert.Equal("values", ex.ParamName);
        Assert.Throws<ArgumentException>(() => builder.Add(ShopProfile.OrderStack, [1, 2, 3, 4], []));
        Assert.Equal(0, builder.SampleCount);
    }

    [Fact]
    public void ProfileBuilder_UnknownFrameIdThrows()
    {
        var builder = ShopProfile.NewBuilder();
        builder.InternFrame(ShopProfile.Hot);
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Add([0, 1], ShopProfile.Ticks(1, 1), []));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Add([-1], ShopProfile.Ticks(1, 1), []));
    }

    [Fact]
    public void ProfileBuilder_NeedsAtLeastOneSampleTypeAndAValidDefault()
    {
        Assert.Throws<ArgumentException>(() => new ProfileBuilder([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProfileBuilder(WellKnownSampleTypes.CpuProfile, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProfileBuilder(WellKnownSampleTypes.CpuProfile, -1));
    }

    [Fact]
    public void ProfileBuilder_LaterEventsDoNotChangeTheirCallersArrays()
    {
        var builder = ShopProfile.NewBuilder();
        long[] first = ShopProfile.Ticks(1, 1);
        builder.Add(ShopProfile.OrderStack, first, []);
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), []);
        Assert.Equal(ShopProfile.Ticks(1, 1), first);
        Assert.Equal(ShopProfile.Ticks(2, 2), Assert.Single(builder.Build().Samples).Values);
    }
}
