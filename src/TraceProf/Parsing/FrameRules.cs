namespace TraceProf.Parsing;

/// <summary>Which resolved frames a profile drops or keeps off the leaf, the same for every parser.</summary>
internal static class FrameRules
{
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
}
