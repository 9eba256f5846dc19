using TraceProf.Kinds;
using TraceProf.Parsing;

namespace TraceProf.Tests.Kinds;

public sealed class KindCatalogTests
{
    [Fact]
    public void Catalog_HasOneDefinitionPerKind_InEnumOrder()
    {
        var kinds = Enum.GetValues<CaptureKind>();
        Assert.Equal(kinds.Length, KindCatalog.All.Count);
        foreach (var kind in kinds)
        {
            Assert.Equal(kind, KindCatalog.Get(kind).Kind);
            Assert.True(CaptureKinds.TryParse(KindCatalog.Get(kind).Name, out var parsed));
            Assert.Equal(kind, parsed);
            Assert.Equal((int)Math.Log2((int)kind.AsSet()), (int)kind);
        }

        Assert.Equal(kinds.Length, CaptureKinds.Names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Providers_OfASet_AreTheUnionOfItsKinds_OneEntryPerProvider()
    {
        var recorder = KindProviders.For(CaptureKindSet.Cpu | CaptureKindSet.Contention | CaptureKindSet.Allocations);

        Assert.Single(recorder, p => p.Name == RuntimeEvents.SampleProfilerProvider);
        var runtime = Assert.Single(recorder, p => p.Name == RuntimeEvents.RuntimeProvider);
        Assert.Equal(RuntimeEvents.MethodNameKeywords, runtime.Keywords & RuntimeEvents.MethodNameKeywords);
        Assert.Equal(RuntimeEvents.ContentionKeyword, runtime.Keywords & RuntimeEvents.ContentionKeyword);
        Assert.Equal(RuntimeEvents.AllocationSamplingKeyword, runtime.Keywords & RuntimeEvents.AllocationSamplingKeyword);

        // Contention alone needs no sampler: a lock profile must not pay for stopping the world every millisecond.
        Assert.DoesNotContain(KindProviders.For(CaptureKind.Contention), p => p.Name == RuntimeEvents.SampleProfilerProvider);
        Assert.Equal(0, KindProviders.For(CaptureKind.Cpu).Single(p => p.Name == RuntimeEvents.RuntimeProvider).Keywords & RuntimeEvents.ContentionKeyword);
    }

    [Fact]
    public void Providers_OfBlock_AreContentionPlusWaitHandle_WithoutTheSampler_AndContentionStaysLocksOnly()
    {
        var block = KindProviders.For(CaptureKind.Block);
        Assert.DoesNotContain(block, p => p.Name == RuntimeEvents.SampleProfilerProvider);
        var runtime = Assert.Single(block, p => p.Name == RuntimeEvents.RuntimeProvider);
        Assert.Equal(0x400_0000_0000, runtime.Keywords & 0x400_0000_0000);
        Assert.Equal(RuntimeEvents.ContentionKeyword, runtime.Keywords & RuntimeEvents.ContentionKeyword);
        Assert.Equal(0, KindProviders.For(CaptureKind.Contention).Single(p => p.Name == RuntimeEvents.RuntimeProvider).Keywords & RuntimeEvents.WaitHandleKeyword);
        Assert.Equal("block", CaptureKinds.Name(CaptureKind.Block));
    }

    [Fact]
    public void Providers_OfAnEmptyOrUnknownSet_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KindProviders.For(CaptureKindSet.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => KindProviders.For((CaptureKindSet)(1 << 20)));
        Assert.Throws<ArgumentOutOfRangeException>(() => KindCatalog.Get((CaptureKind)99));
    }

    [Fact]
    public void Providers_OfTheRecordersExceptionSession_AreTheThrowsAlone_AndItsMainSessionOnlyNamesThen()
    {
        var exceptions = Assert.Single(KindProviders.ExceptionsAlone());
        Assert.Equal(RuntimeEvents.RuntimeProvider, exceptions.Name);
        Assert.Equal(RuntimeEvents.ExceptionKeyword, exceptions.Keywords);
        Assert.Equal(System.Diagnostics.Tracing.EventLevel.Warning, exceptions.EventLevel); // no catch/finally events (Informational)

        var names = Assert.Single(KindProviders.NamesOnly());
        Assert.Equal(RuntimeEvents.MethodNameKeywords, names.Keywords & RuntimeEvents.MethodNameKeywords);
        Assert.Equal(0, names.Keywords & RuntimeEvents.ExceptionKeyword);
    }
}
