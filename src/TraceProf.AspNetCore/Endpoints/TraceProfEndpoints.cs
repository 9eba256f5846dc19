using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;
using TraceProf.Capture;
using TraceProf.Kinds;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// The route table of the API: each path below the prefix, the capability it needs, its handler and its line in the
/// index. A new capture kind is one line here. Builder/TraceProfDispatcher adds the browser UI's routes and serves
/// the table in both placements.
/// </summary>
internal sealed class TraceProfEndpoints
{
    // A capture runs for seconds and stores a snapshot: HEAD, which a link checker or a cache may send on its own,
    // must not start one (405 with Allow: GET). The read-only routes keep GET and HEAD.
    private static readonly string[] CaptureMethods = [HttpMethods.Get];

    private readonly TraceProfOptions _options;

    public TraceProfEndpoints(IndexEndpoints index, CaptureEndpoints captures, HeapEndpoints heap, SnapshotEndpoints snapshots, TraceEndpoints traces, IOptions<TraceProfOptions> options, WaitEndpoints waits)
    {
        _options = options.Value;
        Routes =
        [
            new("/pprof", Capabilities.None, index.Index, "this index"),
            new("/pprof/", Capabilities.None, index.Index, "this index"),
            new("/profile", Capabilities.Cpu, captures.Capture(CaptureKind.Cpu), "CPU profile: samples of every managed thread for ?seconds=N (default 30)", CaptureMethods),
            new("/pprof/profile", Capabilities.Cpu, captures.Capture(CaptureKind.Cpu), "CPU profile (Go pprof path)", CaptureMethods),
            new("/pprof/allocs", Capabilities.Allocs, captures.Capture(CaptureKind.Allocations), "sampled allocations for ?seconds=N", CaptureMethods),
            new("/pprof/contention", Capabilities.Contention, captures.Capture(CaptureKind.Contention), "lock contention for ?seconds=N", CaptureMethods),
            new("/pprof/mutex", Capabilities.Contention, captures.Capture(CaptureKind.Contention), "lock contention (Go's name)", CaptureMethods),
            new("/pprof/block", Capabilities.Contention, captures.Capture(CaptureKind.Block), "everything that blocked for ?seconds=N: lock contention plus blocking waits (Task.Wait, .Result, Monitor.Wait, WaitOne, SemaphoreSlim.Wait), labels wait_source and threadpool", CaptureMethods),
            new("/pprof/threads", Capabilities.Threads, captures.Capture(CaptureKind.Threads), "stacks of all managed threads now; ?debug=1|2 for text", CaptureMethods),
            new("/pprof/goroutine", Capabilities.Threads, captures.Capture(CaptureKind.Threads), "stacks of all managed threads (Go's name)", CaptureMethods),
            new("/pprof/trace", Capabilities.Trace, captures.Capture(CaptureKind.Trace), "raw .nettrace for ?seconds=N", CaptureMethods),
            new("/pprof/exceptions", Capabilities.Exceptions, captures.Capture(CaptureKind.Exceptions), "first-chance exceptions for ?seconds=N: type as the leaf, the throw stack as callers", CaptureMethods),
            new("/pprof/heap", Capabilities.Heap, heap.Heap, "live heap after one blocking full GC, by what retains it (gc=1 is always implied); ?base=<heap snapshot id> for what grew", CaptureMethods),
            new("/pprof/tasks", Capabilities.Threads, waits.Tasks, "pending async call chains (the async goroutine profile), from one heap snapshot; ?debug=1|2 for text", CaptureMethods),
            new("/requests", Capabilities.Threads, waits.Requests, "requests in flight now as JSON: trace, route, age, on a thread or awaiting; ?limit=&route="),
            new("/snapshots", Capabilities.Snapshots, snapshots.List, "stored snapshots: ?traceId=&kind=&since=&limit="),
            new("/snapshots/{id}", Capabilities.Snapshots, snapshots.Get, "one stored snapshot: ?format=pprof|speedscope|folded|nettrace&traceId=&spanId="),
            new("/traces/{traceId}", Capabilities.Snapshots, traces.Get, "every stored sample of one trace, merged, each sample once: ?kind=cpu&format=&spanId="),
            new("/traces/{traceId}/spans", Capabilities.Snapshots, traces.Spans, "the trace's spans across services, JSON: duration, CPU, wait, allocations, top frames: ?limit="),

            new("/pprof/symbol", Capabilities.None, index.NotServedByDesign, "404: profiles carry function names; go tool pprof never asks"),
            new("/pprof/cmdline", Capabilities.None, index.NotServedByDesign, "404: the command line is not served (it may hold secrets)"),

            // Last: the middleware placement takes the first route that matches, so the named profiles come first.
            new("/pprof/{name}", Capabilities.None, index.UnknownProfile, "unknown profile names answer 404"),
        ];
    }

    public IReadOnlyList<TraceProfRoute> Routes { get; }

    /// <summary>Answers a path under the prefix that no route matches.</summary>
    public Task NotFoundAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No TraceProf endpoint at this path; the index is {_options.PathPrefix}/pprof/.");
}
