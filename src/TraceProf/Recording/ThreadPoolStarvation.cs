using TraceProf.Parsing;

namespace TraceProf.Recording;

/// <summary>
/// The thread pool's worker injections for blocked workers, as the flight recorder's own session reports them
/// (runtime provider, Threading keyword: <c>ThreadPoolWorkerThreadAdjustmentAdjustment</c>). Two reasons mean "blocked":
/// <see cref="ThreadAdjustmentReason.Starvation"/> (the gate thread saw queued work and no progress: workers blocked in
/// <c>Thread.Sleep</c>, <c>WaitOne</c>, …) and <see cref="ThreadAdjustmentReason.CooperativeBlocking"/> with a higher
/// count (a worker blocked in <c>Task.Wait</c>/<c>.Result</c> — sync-over-async, which .NET 9+ reports this way rather
/// than as starvation; measured on .NET 10). Counted here; no in-process EventListener (one on the runtime provider
/// made later heap snapshots lose type names, docs/design-notes.md).
/// </summary>
internal sealed class ThreadPoolStarvation
{
    private long _starvation;
    private long _blocking;
    private long _lastDetectedTimestamp;
    private long _lastCount = -1;

    /// <summary>
    /// Raised on the recorder's reader thread for each injection for blocked workers. Handlers must be quick and must
    /// not block (the session's stream waits for them); an exception they throw is swallowed.
    /// </summary>
    public event EventHandler<ThreadPoolStarvationEventArgs>? Detected;

    /// <summary>Gets the number of adjustments with reason Starvation seen since the start.</summary>
    public long StarvationAdjustments => Interlocked.Read(ref _starvation);

    /// <summary>Gets the number of adjustments with reason CooperativeBlocking that added workers, since the start.</summary>
    public long BlockingInjections => Interlocked.Read(ref _blocking);

    /// <summary>Gets the Stopwatch timestamp of the last of either, or 0.</summary>
    public long LastDetectedTimestamp => Interlocked.Read(ref _lastDetectedTimestamp);

    /// <summary>Takes one adjustment event (called by the session's decoder).</summary>
    /// <param name="timestamp">The event's time (Stopwatch clock).</param>
    /// <param name="newWorkerThreadCount">The pool's worker count after it.</param>
    /// <param name="reason">The runtime's reason.</param>
    public void OnAdjustment(long timestamp, uint newWorkerThreadCount, uint reason)
    {
        var previous = Interlocked.Exchange(ref _lastCount, newWorkerThreadCount);
        var why = (ThreadAdjustmentReason)reason;
        if (why == ThreadAdjustmentReason.Starvation)
        {
            Interlocked.Increment(ref _starvation);
        }
        else if (why == ThreadAdjustmentReason.CooperativeBlocking && previous >= 0 && newWorkerThreadCount > previous)
        {
            Interlocked.Increment(ref _blocking);
        }
        else
        {
            return;
        }

        Interlocked.Exchange(ref _lastDetectedTimestamp, timestamp);
        if (Detected is not { } handlers)
        {
            return;
        }

        var args = new ThreadPoolStarvationEventArgs(why, (int)newWorkerThreadCount, timestamp);
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<ThreadPoolStarvationEventArgs>>())
        {
            try
            {
                handler(this, args);
            }
#pragma warning disable CA1031 // A subscriber's failure must not end the recorder's reader.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}

/// <summary>One worker injection for blocked workers.</summary>
/// <param name="reason">Starvation or CooperativeBlocking.</param>
/// <param name="newWorkerThreadCount">The pool's worker count after the injection.</param>
/// <param name="timestamp">When the runtime raised it (Stopwatch clock).</param>
internal sealed class ThreadPoolStarvationEventArgs(ThreadAdjustmentReason reason, int newWorkerThreadCount, long timestamp) : EventArgs
{
    /// <summary>Gets why the pool added a worker.</summary>
    public ThreadAdjustmentReason Reason { get; } = reason;

    /// <summary>Gets the pool's worker count after the injection.</summary>
    public int NewWorkerThreadCount { get; } = newWorkerThreadCount;

    /// <summary>Gets when the runtime raised it (Stopwatch clock).</summary>
    public long Timestamp { get; } = timestamp;
}
