using System.Diagnostics.Tracing;
using System.Globalization;
using TraceProf.Parsing;

namespace TraceProf.Kinds.Block;

/// <summary>
/// The thread pool's state now, and the worker injections the runtime made because workers were blocked: an
/// in-process <see cref="EventListener"/> on the runtime provider (<c>NativeRuntimeEventSource</c>) with the Threading
/// keyword at Informational, reading <c>ThreadPoolWorkerThreadAdjustmentAdjustment</c>. Two reasons mean "blocked":
/// <see cref="ThreadAdjustmentReason.Starvation"/> (the gate thread saw queued work and no progress: workers blocked
/// in <c>Thread.Sleep</c>, <c>WaitOne</c>, …) and <see cref="ThreadAdjustmentReason.CooperativeBlocking"/> with a higher
/// count (a worker blocked in <c>Task.Wait</c>/<c>.Result</c> — sync-over-async, which .NET 9+ reports this way rather
/// than as starvation; measured on .NET 10). Cheap when idle: the events are raised only when the pool changes its
/// worker count or its threads. Never throws into the host.
/// </summary>
internal sealed class ThreadPoolMonitor : IDisposable
{
    private readonly Listener _listener;
    private readonly TimeProvider _time;
    private long _starvation;
    private long _blocking;
    private long _lastDetectedTicks;
    private long _lastCount = -1;
    private int _disposed;

    /// <summary>Starts listening.</summary>
    /// <param name="timeProvider">The clock of <see cref="ThreadPoolStarvationEventArgs.Time"/>.</param>
    public ThreadPoolMonitor(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _listener = new Listener();
        _listener.Attach(this);
    }

    /// <summary>
    /// Raised (on the listener's thread) for each worker injection caused by blocked workers. Handlers should be
    /// quick and must not block; an exception they throw is swallowed so that it never reaches the runtime.
    /// </summary>
    public event EventHandler<ThreadPoolStarvationEventArgs>? StarvationDetected;

    /// <summary>Gets the number of adjustments with reason Starvation seen since the start.</summary>
    public long StarvationAdjustments => Interlocked.Read(ref _starvation);

    /// <summary>Gets the number of adjustments with reason CooperativeBlocking that added workers, since the start.</summary>
    public long BlockingInjections => Interlocked.Read(ref _blocking);

    /// <summary>The pool's state now, with the counts seen since the start.</summary>
    /// <returns>The state.</returns>
    public ThreadPoolState GetState()
    {
        var last = Interlocked.Read(ref _lastDetectedTicks);
        return new ThreadPoolState(
            ThreadPool.ThreadCount,
            ThreadPool.PendingWorkItemCount,
            ThreadPool.CompletedWorkItemCount,
            StarvationAdjustments,
            BlockingInjections,
            last == 0 ? null : new DateTimeOffset(last, TimeSpan.Zero));
    }

    /// <summary>Stops listening.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _listener.Dispose();
        }
    }

    private void OnAdjustment(uint newWorkerThreadCount, uint reason)
    {
        var previous = Interlocked.Exchange(ref _lastCount, newWorkerThreadCount);
        if (previous < 0)
        {
            previous = ThreadPool.ThreadCount;
        }

        var why = (ThreadAdjustmentReason)reason;
        if (why == ThreadAdjustmentReason.Starvation)
        {
            Interlocked.Increment(ref _starvation);
        }
        else if (why == ThreadAdjustmentReason.CooperativeBlocking && newWorkerThreadCount > previous)
        {
            Interlocked.Increment(ref _blocking);
        }
        else
        {
            return;
        }

        var now = _time.GetUtcNow();
        Interlocked.Exchange(ref _lastDetectedTicks, now.UtcTicks);
        if (StarvationDetected is not { } handlers)
        {
            return;
        }

        var args = new ThreadPoolStarvationEventArgs(why, (int)newWorkerThreadCount, now);
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<ThreadPoolStarvationEventArgs>>())
        {
            try
            {
                handler(this, args);
            }
#pragma warning disable CA1031 // A subscriber's failure must not reach the runtime's event dispatch (it would end the listener).
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>
    /// The listener proper. <see cref="EventListener"/>'s constructor calls <see cref="OnEventSourceCreated"/> for the
    /// sources that exist already, before a derived constructor runs, so it enables by constants only and forwards
    /// events once <see cref="Attach"/> has given it its monitor.
    /// </summary>
    private sealed class Listener : EventListener
    {
        private ThreadPoolMonitor? _monitor;

        public void Attach(ThreadPoolMonitor monitor) => Volatile.Write(ref _monitor, monitor);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (string.Equals(eventSource.Name, RuntimeEvents.RuntimeProvider, StringComparison.Ordinal))
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)RuntimeEvents.ThreadingKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            // ThreadPoolWorkerThreadAdjustmentAdjustment: AverageThroughput, NewWorkerThreadCount, Reason, ClrInstanceID.
            if (eventData.EventId != RuntimeEvents.ThreadPoolWorkerThreadAdjustmentAdjustment || Volatile.Read(ref _monitor) is not { } monitor
                || eventData.Payload is not { Count: >= 3 } payload)
            {
                return;
            }

            try
            {
                monitor.OnAdjustment(Convert.ToUInt32(payload[1], CultureInfo.InvariantCulture), Convert.ToUInt32(payload[2], CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException)
            {
                // A payload of another shape (a future version of the event): not ours to interpret.
            }
        }
    }
}

/// <summary>The thread pool now, and the injections for blocked workers seen since a <see cref="ThreadPoolMonitor"/> started.</summary>
/// <param name="ThreadCount">Pool threads now (<see cref="ThreadPool.ThreadCount"/>).</param>
/// <param name="PendingWorkItemCount">Work items queued and not started (the queue length).</param>
/// <param name="CompletedWorkItemCount">Work items completed since the process started.</param>
/// <param name="StarvationAdjustments">Adjustments with reason Starvation.</param>
/// <param name="BlockingInjections">Adjustments with reason CooperativeBlocking that added workers (sync-over-async).</param>
/// <param name="LastDetectedAt">When the last of either was seen, or null.</param>
internal sealed record ThreadPoolState(int ThreadCount, long PendingWorkItemCount, long CompletedWorkItemCount, long StarvationAdjustments, long BlockingInjections, DateTimeOffset? LastDetectedAt);

/// <summary>One worker injection for blocked workers.</summary>
/// <param name="reason">Starvation or CooperativeBlocking.</param>
/// <param name="newWorkerThreadCount">The pool's worker count after it.</param>
/// <param name="time">When it was seen.</param>
internal sealed class ThreadPoolStarvationEventArgs(ThreadAdjustmentReason reason, int newWorkerThreadCount, DateTimeOffset time) : EventArgs
{
    /// <summary>Gets why the pool added a worker.</summary>
    public ThreadAdjustmentReason Reason { get; } = reason;

    /// <summary>Gets the pool's worker count after the injection.</summary>
    public int NewWorkerThreadCount { get; } = newWorkerThreadCount;

    /// <summary>Gets when it was seen.</summary>
    public DateTimeOffset Time { get; } = time;
}
