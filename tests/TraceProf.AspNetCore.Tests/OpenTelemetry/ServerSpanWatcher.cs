using System.Collections.Concurrent;
using System.Diagnostics;

namespace TraceProf.AspNetCore.Tests.OpenTelemetry;

/// <summary>
/// Tells when the server span of a given trace has ended, whether or not OpenTelemetry sampled it: the client gets
/// its response before ASP.NET Core stops the request's Activity, so a test must wait for the stop, not the response.
/// </summary>
/// <remarks>
/// Create it after the host has started: a source notifies its listeners in the order they were created, so this
/// one hears of the stop after the tracer provider's processors (and a simple export processor's export) have run.
/// It samples nothing itself, so it does not change what is recorded.
/// </remarks>
internal sealed class ServerSpanWatcher : IDisposable
{
    private readonly ConcurrentDictionary<ActivityTraceId, TaskCompletionSource> _waiting = new();

    private readonly ActivityListener _listener;

    public ServerSpanWatcher()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (activity.Kind == ActivityKind.Server && _waiting.TryGetValue(activity.TraceId, out var ended))
                {
                    ended.TrySetResult();
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Starts watching for the end of a trace's server span; await the task after sending the request.</summary>
    public Task Watch(ActivityTraceId traceId) =>
        _waiting.GetOrAdd(traceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Dispose() => _listener.Dispose();
}
