using System.Diagnostics;
using Microsoft.Diagnostics.NETCore.Client;
using TraceProf.Capture;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Heap;

/// <summary>The result of a heap snapshot: the profile and what was measured.</summary>
/// <param name="Profile">The live-heap profile (inuse_objects, inuse_space; default inuse_space).</param>
/// <param name="Stats">The GC pause, heap size, objects, references, roots and what was lost.</param>
internal sealed record HeapSnapshot(Profile Profile, HeapSnapshotStats Stats);

/// <summary>A heap snapshot is already running in this process.</summary>
internal sealed class HeapSnapshotInProgressException : InvalidOperationException
{
    public HeapSnapshotInProgressException()
        : base("A heap snapshot is already running in this process; one runs at a time. Try again when it has finished.")
    {
    }

    public HeapSnapshotInProgressException(string message)
        : base(message)
    {
    }

    public HeapSnapshotInProgressException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The heap is larger than the snapshot's limit allows.</summary>
internal sealed class HeapTooLargeException : Exception
{
    public HeapTooLargeException(long heapBytes, long limitBytes)
        : base($"The GC heap is {heapBytes / (1024 * 1024)} MB, over the heap snapshot limit of {limitBytes / (1024 * 1024)} MB; raise the limit to take a snapshot of a heap this large.")
    {
        HeapBytes = heapBytes;
        LimitBytes = limitBytes;
    }

    public HeapTooLargeException()
    {
    }

    public HeapTooLargeException(string message)
        : base(message)
    {
    }

    public HeapTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the heap size that was refused.</summary>
    public long HeapBytes { get; }

    /// <summary>Gets the limit.</summary>
    public long LimitBytes { get; }
}

/// <summary>
/// Takes a heap snapshot of this process through EventPipe's GC heap dump: a session with the runtime provider
/// at Verbose and the heap snapshot keywords makes the runtime induce one blocking gen2 GC and walk the heap,
/// sending types, objects, references and roots; the stream is decoded live on a dedicated thread into a
/// <see cref="HeapGraph"/>, and the session stops as soon as that GC's GCEnd has been read.
/// </summary>
internal sealed class HeapSnapshotCapture
{
    // Measured here: 44 bytes of event stream per live object (0.1 M to 30 M objects); objects averaged 52–500
    // bytes on the heaps measured, and 40 estimates the count on the high side. The whole dump is written while
    // the process is suspended (the reader cannot drain), so the buffer must hold all of it; EventPipe allocates
    // its buffer as it fills, so a generous bound costs nothing on a heap of large objects.
    private const int StreamBytesPerObject = 44;
    private const int AssumedBytesPerObject = 40;

    private static int s_running;

    private readonly HeapSnapshotOptions _options;
    private readonly TimeProvider _time;

    public HeapSnapshotCapture(HeapSnapshotOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? HeapSnapshotOptions.Default;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The session buffer for a heap of that size: the expected stream, clamped to [64 MB, the maximum].</summary>
    public static int BufferMegabytesFor(long heapBytes, int maxBufferMegabytes)
    {
        var expected = Math.Max(0, heapBytes) / AssumedBytesPerObject * StreamBytesPerObject;
        var megabytes = (expected + (16L << 20)) >> 20;
        return (int)Math.Clamp(megabytes, HeapSnapshotOptions.MinBufferMegabytes, Math.Max(HeapSnapshotOptions.MinBufferMegabytes, maxBufferMegabytes));
    }

    /// <summary>Takes a heap snapshot.</summary>
    /// <param name="cancellationToken">Stops the snapshot; the session is stopped and released either way.</param>
    /// <returns>The profile and its figures.</returns>
    /// <exception cref="HeapTooLargeException">The heap is over <see cref="HeapSnapshotOptions.MaxHeapBytes"/>.</exception>
    /// <exception cref="TimeoutException">The snapshot took longer than <see cref="HeapSnapshotOptions.Timeout"/>.</exception>
    /// <exception cref="CaptureUnavailableException">EventPipe could not start, or the stream ended before the dump did.</exception>
    /// <exception cref="HeapSnapshotInProgressException">Another heap snapshot is running in this process.</exception>
    public async Task<HeapSnapshot> CaptureAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // One at a time in the process: each session would induce its own GC, and a second dump's GCStart could
        // be taken for the first's.
        if (Interlocked.CompareExchange(ref s_running, 1, 0) != 0)
        {
            throw new HeapSnapshotInProgressException();
        }

        try
        {
            var (graph, stats, _) = await CaptureGraphOnceAsync(watchedHandles: null, cancellationToken).ConfigureAwait(false);
            var (profile, withReachability) = HeapProfileBuilder.Build(graph, stats, _options.MaxPathDepth);
            return new HeapSnapshot(profile, withReachability);
        }
        finally
        {
            Volatile.Write(ref s_running, 0);
        }
    }

    /// <summary>
    /// Takes a heap snapshot and hands back its object graph instead of a profile (the tasks kind reads the async
    /// state machines in it); same bounds, same one-at-a-time rule and exceptions as <see cref="CaptureAsync"/>.
    /// </summary>
    /// <param name="watchedHandles">GC handles whose objects to find in the graph (see <see cref="HeapGraphBuilder.WatchHandles"/>).</param>
    /// <param name="cancellationToken">Stops the snapshot.</param>
    /// <returns>The graph, the snapshot's figures, and each watched handle's node.</returns>
    public async Task<(HeapGraph Graph, HeapSnapshotStats Stats, IReadOnlyDictionary<ulong, int> WatchedNodes)> CaptureGraphAsync(IEnumerable<ulong>? watchedHandles, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.CompareExchange(ref s_running, 1, 0) != 0)
        {
            throw new HeapSnapshotInProgressException();
        }

        try
        {
            return await CaptureGraphOnceAsync(watchedHandles, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref s_running, 0);
        }
    }

    private async Task<(HeapGraph Graph, HeapSnapshotStats Stats, IReadOnlyDictionary<ulong, int> WatchedNodes)> CaptureGraphOnceAsync(IEnumerable<ulong>? watchedHandles, CancellationToken cancellationToken)
    {
        var heapBefore = GC.GetGCMemoryInfo().HeapSizeBytes;
        if (_options.MaxHeapBytes > 0 && heapBefore > _options.MaxHeapBytes)
        {
            throw new HeapTooLargeException(heapBefore, _options.MaxHeapBytes);
        }

        // The last GC may be long ago or a small one; what is allocated since (garbage included) bounds the walk too.
        var bufferMegabytes = BufferMegabytesFor(Math.Max(heapBefore, GC.GetTotalMemory(forceFullCollection: false)), _options.MaxBufferMegabytes);
        using var deadline = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var startedAt = _time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        var pauseBefore = GC.GetTotalPauseDuration();
        var gen2Before = GC.CollectionCount(2);

        EventPipeSession session;
        try
        {
            session = await HeapSession.StartAsync(HeapDumpEvents.Providers, bufferMegabytes, _time, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The heap snapshot did not start within its timeout of {_options.Timeout.TotalSeconds:0} s.");
        }

        var builder = new HeapGraphBuilder(_options.MaxObjects);
        if (watchedHandles is not null)
        {
            builder.WatchHandles(watchedHandles);
        }

        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A dedicated thread, not the pool's: the session does not stop while nobody reads its stream.
        var reader = new Thread(() =>
        {
            try
            {
                using var buffered = new BufferedStream(session.EventStream, 1 << 20);
                new NettraceReader(buffered, "heap snapshot stream").Read(builder, CancellationToken.None);
                read.TrySetResult();
            }
#pragma warning disable CA1031 // The exception is handed to the awaiting snapshot.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                read.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "TraceProf heap snapshot reader",
        };

        try
        {
            reader.Start();
            try
            {
                await WaitForTheDumpAsync(builder, read.Task, gen2Before, linked.Token).ConfigureAwait(false);
            }
            finally
            {
                // Also on cancellation and timeout: the session goes first, then its stream is read to its end.
                await StopAsync(session, read.Task).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The heap snapshot took longer than its timeout of {_options.Timeout.TotalSeconds:0} s; it was stopped.");
        }
        finally
        {
            session.Dispose();
        }

        if (read.Task.IsFaulted)
        {
            throw new CaptureUnavailableException($"The heap snapshot's event stream could not be read: {read.Task.Exception!.InnerException!.Message}", read.Task.Exception.InnerException);
        }

        if (builder.GcNumber < 0 && builder.ObjectsReported == 0)
        {
            throw new CaptureUnavailableException("The runtime did not induce the heap snapshot's GC: no blocking gen2 GC was seen in the session.");
        }

        var pauseDelta = GC.GetTotalPauseDuration() - pauseBefore;
        var after = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var graph = builder.Build();
        long objectBytes = 0;
        for (var i = 0; i < graph.NodeCount; i++)
        {
            objectBytes += graph.NodeSizes[i];
        }

        var stats = new HeapSnapshotStats
        {
            StartedAt = startedAt,
            GcPause = Pause(builder),
            TotalPauseDelta = pauseDelta,
            HeapBytesBefore = heapBefore,
            HeapBytesAfter = after.HeapSizeBytes,
            HeapLiveBytesAfter = after.HeapSizeBytes - after.FragmentedBytes,
            BytesReported = builder.BytesReported,
            BufferMegabytes = bufferMegabytes,
            GcNumber = builder.GcNumber,
            ObjectsReported = builder.ObjectsReported,
            Objects = graph.NodeCount,
            ObjectBytes = objectBytes,
            Edges = graph.EdgeCount,
            Roots = graph.RootNodes.Length,
            RootsNotInDump = builder.RootsNotInDump,
            NodeEventsLost = builder.NodeEventsLost,
            EdgeEventsLost = builder.EdgeEventsLost,
            RootEventsLost = builder.RootEventsLost,
            ObjectsLostEstimate = builder.ObjectsLostEstimate,
            ObjectsOverCap = builder.ObjectsOverCap,
            EdgesDiscarded = builder.EdgesDiscarded,
            MalformedEvents = builder.MalformedEvents,
            Events = builder.Events,
            PayloadBytes = builder.PayloadBytes,
            DumpEnded = builder.DumpEnded.IsCompleted,
        };
        stats = stats with { Elapsed = stopwatch.Elapsed };
        return (graph, stats, builder.WatchedHandleNodes);
    }

    /// <summary>
    /// Waits until the dump is over: its GC's GCEnd was read, or the stream ended, or — when the session's buffer
    /// overflowed and dropped GCEnd itself — the process has seen a gen2 GC end since the session started and
    /// the dump's events had begun to arrive. The walk happens inside that GC, so once it is over every event
    /// of the dump is in the session's buffer, and stopping the session flushes them to the reader.
    /// </summary>
    private async Task WaitForTheDumpAsync(HeapGraphBuilder builder, Task read, int gen2Before, CancellationToken cancellationToken)
    {
        var poll = TimeSpan.FromMilliseconds(50);
        var gcOverSince = (long?)null;
        while (true)
        {
            var done = await Task.WhenAny(builder.DumpEnded, read, Task.Delay(poll, _time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (done != read && done != builder.DumpEnded && GC.CollectionCount(2) <= gen2Before)
            {
                continue;
            }

            if (done == read || builder.DumpEnded.IsCompleted || builder.DumpEventsSeen)
            {
                return;
            }

            // A gen2 GC ended but nothing of a dump was read yet: the reader may be behind; give it a moment,
            // then stop (the snapshot then says the GC was not seen).
            gcOverSince ??= _time.GetTimestamp();
            if (_time.GetElapsedTime(gcOverSince.Value) > TimeSpan.FromSeconds(5))
            {
                return;
            }
        }
    }

    private static TimeSpan Pause(HeapGraphBuilder builder)
    {
        var frequency = builder.Header.TimestampFrequency;
        if (frequency <= 0 || builder.GcEndTimestamp == 0)
        {
            return TimeSpan.Zero;
        }

        var (from, to) = builder.SuspendTimestamp != 0 && builder.RestartTimestamp != 0
            ? (builder.SuspendTimestamp, builder.RestartTimestamp)
            : (builder.GcStartTimestamp, builder.GcEndTimestamp);
        return TimeSpan.FromSeconds((to - from) / (double)frequency);
    }

    private async Task StopAsync(EventPipeSession session, Task read)
    {
        try
        {
            await HeapSession.StopAsync(session, _time).ConfigureAwait(false);
            await read.WaitAsync(EventPipeCaptureSource.StopTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or ServerNotAvailableException)
        {
            throw new CaptureUnavailableException($"The heap snapshot's EventPipe session did not stop cleanly: {ex.Message}", ex);
        }
        catch (Exception) when (read.IsFaulted)
        {
            // The reader's failure is reported by the caller.
        }
    }
}
