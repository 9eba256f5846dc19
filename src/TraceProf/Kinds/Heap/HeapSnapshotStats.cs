namespace TraceProf.Kinds.Heap;

/// <summary>What a heap snapshot measured and how complete it is.</summary>
internal sealed record HeapSnapshotStats
{
    /// <summary>Gets when the snapshot started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Gets how long the whole snapshot took (session start to graph built).</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>
    /// Gets the pause of the induced GC: from the runtime's suspension to its restart (GCSuspendEEBegin →
    /// GCRestartEEEnd), or GCStart → GCEnd when those were not seen. The heap walk happens inside it.
    /// </summary>
    public TimeSpan GcPause { get; init; }

    /// <summary>
    /// Gets the growth of <see cref="GC.GetTotalPauseDuration"/> over the snapshot (every GC in that time). Measured
    /// here it leaves the heap walk out: a heartbeat thread stalls for <see cref="GcPause"/>, not for this.
    /// </summary>
    public TimeSpan TotalPauseDelta { get; init; }

    /// <summary>Gets the GC heap size before the snapshot (as of the last GC), which sized the buffer.</summary>
    public long HeapBytesBefore { get; init; }

    /// <summary>Gets the GC heap size after the induced GC.</summary>
    public long HeapBytesAfter { get; init; }

    /// <summary>
    /// Gets the live bytes of the GC heap after the induced GC (heap size minus fragmentation), which the objects
    /// of a whole dump add up to.
    /// </summary>
    public long HeapLiveBytesAfter { get; init; }

    /// <summary>Gets the sum of the sizes of all objects the runtime's dump reported (including the ones over the cap).</summary>
    public long BytesReported { get; init; }

    /// <summary>
    /// Gets how much of the live heap the reported objects cover (1 for a whole dump). Events dropped at the end
    /// of the stream leave no gap in any index, so this is what shows a dump cut short.
    /// </summary>
    public double Coverage => HeapLiveBytesAfter > 0 ? Math.Min(1, (double)BytesReported / HeapLiveBytesAfter) : 1;

    /// <summary>Gets the session buffer used.</summary>
    public int BufferMegabytes { get; init; }

    /// <summary>Gets the number of the induced GC, -1 when it was not seen.</summary>
    public long GcNumber { get; init; }

    /// <summary>Gets the objects the runtime reported.</summary>
    public long ObjectsReported { get; init; }

    /// <summary>Gets the objects in the graph (reported minus over the cap).</summary>
    public long Objects { get; init; }

    /// <summary>Gets the sum of the sizes of the objects in the graph.</summary>
    public long ObjectBytes { get; init; }

    /// <summary>Gets the references in the graph.</summary>
    public long Edges { get; init; }

    /// <summary>Gets the roots in the graph.</summary>
    public long Roots { get; init; }

    /// <summary>Gets the roots whose object is not in the dump (frozen or outside the GC heap, or lost).</summary>
    public long RootsNotInDump { get; init; }

    /// <summary>Gets the objects not reachable from any root (kept under <c>[unreachable]</c>).</summary>
    public long Unreachable { get; init; }

    /// <summary>Gets the bulk node events the session dropped.</summary>
    public long NodeEventsLost { get; init; }

    /// <summary>Gets the bulk edge events the session dropped.</summary>
    public long EdgeEventsLost { get; init; }

    /// <summary>Gets the bulk root events the session dropped.</summary>
    public long RootEventsLost { get; init; }

    /// <summary>Gets the estimated objects in the dropped node events.</summary>
    public long ObjectsLostEstimate { get; init; }

    /// <summary>Gets the objects counted but not kept because of <see cref="HeapSnapshotOptions.MaxObjects"/>.</summary>
    public long ObjectsOverCap { get; init; }

    /// <summary>Gets the references that could not be attributed.</summary>
    public long EdgesDiscarded { get; init; }

    /// <summary>Gets the events whose payload did not decode.</summary>
    public long MalformedEvents { get; init; }

    /// <summary>Gets the runtime events decoded and their payload bytes.</summary>
    public long Events { get; init; }

    /// <inheritdoc cref="Events"/>
    public long PayloadBytes { get; init; }

    /// <summary>Gets whether the induced GC's end was seen (the dump ran to its end).</summary>
    public bool DumpEnded { get; init; }

    /// <summary>Gets whether every object and reference the runtime reported is in the graph.</summary>
    public bool Complete =>
        DumpEnded && NodeEventsLost == 0 && EdgeEventsLost == 0 && RootEventsLost == 0 && ObjectsOverCap == 0 && MalformedEvents == 0 && !CutShort;

    /// <summary>
    /// Gets whether the reported objects fall short of the live heap by more than the heap's own figures explain
    /// (measured here: a whole dump of a 10 MB test heap reports 2–3 MB less than HeapSizeBytes − FragmentedBytes,
    /// of a 500 MB heap within 0.1 %): more than 2 % and more than 8 MB.
    /// </summary>
    public bool CutShort => HeapLiveBytesAfter - BytesReported > Math.Max(8L << 20, HeapLiveBytesAfter / 50);
}
