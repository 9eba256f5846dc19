using TraceProf.Pipeline;
using TraceProf.Profiles;

namespace TraceProf.Tests.Pipeline;

/// <summary>A snapshot's sample count is the events its profile counts, not its rows.</summary>
public sealed class SnapshotWriterTests
{
    [Fact]
    public void SampleCountOf_CpuProfile_IsTheSamplerEvents_NotTheRows()
    {
        // Two rows (42 vs 1,668 in issue 17's failed order): 1,000 + 668 sampler events.
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex);
        var order = builder.InternFrame(new ProfileFrame("ShopDemo.Orders.Place", "ShopDemo"));
        var quote = builder.InternFrame(new ProfileFrame("ShopDemo.PricingEngine.QuoteAsync", "ShopDemo"));
        builder.Add([order], [1_000, 900_000_000, 1_000_000_000], [new ProfileLabel("thread_id", "1")]);
        builder.Add([quote, order], [668, 0, 668_000_000], [new ProfileLabel("thread_id", "2")]);

        Assert.Equal(1_668, SnapshotWriter.SampleCountOf(builder.Build()));
    }

    [Fact]
    public void SampleCountOf_ContentionProfile_IsTheWaits()
    {
        var builder = new ProfileBuilder(WellKnownSampleTypes.ContentionProfile, 1);
        var frame = builder.InternFrame(new ProfileFrame("ShopDemo.Inventory.Reserve", "ShopDemo"));
        builder.Add([frame], [7, 7_000_000], []);
        builder.Add([frame], [3, 1_000_000], []);

        Assert.Equal(10, SnapshotWriter.SampleCountOf(builder.Build()));
    }

    [Fact]
    public void SampleCountOf_FirstColumnNotACount_IsTheRows()
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.AllocSpace]);
        builder.Add([builder.InternFrame(new ProfileFrame("A", "M"))], [4096], []);
        builder.Add([builder.InternFrame(new ProfileFrame("B", "M"))], [8192], []);

        Assert.Equal(2, SnapshotWriter.SampleCountOf(builder.Build()));
    }
}
