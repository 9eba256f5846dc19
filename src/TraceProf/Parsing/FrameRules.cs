namespace TraceProf.Parsing;

/// <summary>
/// Which resolved frames a profile drops or keeps off the leaf, the same for every parser. The rules are stated
/// for people in <c>docs/frames.md</c>; <see cref="ParseOptions.RawFrames"/> turns the folding off.
/// </summary>
internal static class FrameRules
{
    // Display names (FrameNames.Display) of the runtime's async machinery between a caller and the method it awaits,
    // and of the thread pool's dispatch between a worker thread and the work item it runs.
    private static readonly HashSet<string> Plumbing = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.AsyncMethodBuilderCore.Start",
        "System.Runtime.CompilerServices.AsyncTaskMethodBuilder.Start",
        "System.Runtime.CompilerServices.AsyncTaskMethodBuilder<T>.Start",
        "System.Runtime.CompilerServices.AsyncValueTaskMethodBuilder.Start",
        "System.Runtime.CompilerServices.AsyncValueTaskMethodBuilder<T>.Start",
        "System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder.Start",
        "System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<T>.Start",
        "System.Runtime.CompilerServices.AsyncVoidMethodBuilder.Start",
        "System.Runtime.CompilerServices.AsyncIteratorMethodBuilder.MoveNext",
        "System.Threading.ExecutionContext.Run",
        "System.Threading.ExecutionContext.RunInternal",
        "System.Threading.ExecutionContext.RunFromThreadPoolDispatchLoop",
        "System.Threading.ExecutionContext.RunForThreadPoolUnsafe",
        "System.Threading.ThreadPoolWorkQueue.Dispatch",
        "System.Threading.ThreadPoolWorkQueue.DispatchWorkItem",
        "System.Threading.PortableThreadPool.WorkerThread.WorkerDoWork",
        "System.Threading.Tasks.Task.ExecuteFromThreadPool",
        "System.Threading.Tasks.Task.ExecuteEntryUnsafe",
        "System.Threading.Tasks.Task.ExecuteWithThreadLocal",
        "System.Threading.Tasks.Task.InnerInvoke",
        "System.Threading.Tasks.Task<T>.InnerInvoke",
        "System.Threading.Tasks.Task.RunContinuations",
        "System.Threading.Tasks.AwaitTaskContinuation.RunOrScheduleAction",
    };

    // Every method of the boxes that carry a state machine across an await.
    private static readonly string[] PlumbingTypes =
    [
        "System.Runtime.CompilerServices.AsyncTaskMethodBuilder<T>.AsyncStateMachineBox<T>.",
        "System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<T>.StateMachineBox<T>.",
        "System.Runtime.CompilerServices.AsyncMethodBuilderCore.ContinuationWrapper.",
    ];

    /// <summary>
    /// Samples land at GC safe points; the poll helper is where the thread was stopped, not where it spent time,
    /// so it is folded into its caller.
    /// </summary>
    public static bool IsSafePointHelper(string name) => name.Contains("<PollGC>g__PollGCWorker", StringComparison.Ordinal);

    /// <summary>
    /// Some runtime events are raised from managed code (System.Threading.Lock's contention events; an exception's
    /// event from the runtime's managed exception dispatch, <c>System.Runtime.EH</c>); the raising methods are
    /// bookkeeping, not where the program was, so none of them stays the leaf (a run of them at the leaf goes).
    /// </summary>
    public static bool IsEventRaiser(string name) =>
        name.StartsWith("System.Diagnostics.Tracing.NativeRuntimeEventSource.", StringComparison.Ordinal) ||
        name.StartsWith("System.Runtime.EH.", StringComparison.Ordinal);

    /// <summary>
    /// The runtime's async and thread-pool plumbing (builders' <c>Start</c>, state machine boxes,
    /// <c>ExecutionContext.Run*</c>, work-item dispatch): folded, so an awaited method sits right under its caller.
    /// </summary>
    /// <param name="displayName">The frame's <see cref="FrameNames.Display"/> name.</param>
    /// <returns>True when the frame is folded by default.</returns>
    public static bool IsAsyncPlumbing(string displayName)
    {
        if (Plumbing.Contains(displayName))
        {
            return true;
        }

        foreach (var type in PlumbingTypes)
        {
            if (displayName.StartsWith(type, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
