using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TraceProf.AspNetCore.Triggers;
using TraceProf.Attribution;

namespace TraceProf.AspNetCore.Tracking;

/// <summary>
/// While the span timeline records (a capture listens, or the flight recorder runs), tells it the method and route
/// of each request, so that samples get <c>http.method</c> and <c>http.route</c>; and hands each finished request
/// to the flight recorder's triggers, and holds it in <see cref="InFlightRequests"/> while it runs. Otherwise it costs one volatile read per request. While profiles are pushed to
/// Pyroscope, each request's span also gets <c>pyroscope.profile.id</c> = its own span id (the local root, which is
/// what the pushed samples carry as <c>span_id</c>), so Grafana links every span to its profile, not only the spans
/// of triggered requests.
/// </summary>
internal sealed class RequestTrackingMiddleware(RequestDelegate next, RequestTriggers triggers, Microsoft.Extensions.Options.IOptions<TraceProfOptions> options)
{
    private readonly bool _pyroscope = options.Value.Pyroscope.Enabled;

    public Task InvokeAsync(HttpContext context)
    {
        if (!TimelineRecorder.IsRecording || Activity.Current is not { } activity)
        {
            return next(context);
        }

        return TrackAsync(context, activity);
    }

    private async Task TrackAsync(HttpContext context, Activity activity)
    {
        var started = Stopwatch.GetTimestamp();
        if (_pyroscope && activity.IsAllDataRequested)
        {
            activity.SetTag(RequestTriggers.PyroscopeProfileIdTag, activity.SpanId.ToHexString());
        }

        var request = new RequestDescription(context.Request.Method) { StartTimestamp = started };
        request.AttachTo(activity);
        TimelineRecorder.RequestDescribed();
        // Only here, while recording: /debug/requests and the tasks profile read what is in flight.
        var inFlight = InFlightRequests.Add(activity, request, started, context);
        Exception? unhandled = null;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Remember(ex, out unhandled))
        {
            throw; // never reached: the filter only remembers the exception, which keeps propagating unchanged
        }
        finally
        {
            // Routing has run by now; labels are resolved after the capture, so a late route still lands.
            // An exception handler that re-executed the pipeline cleared the endpoint; its feature keeps the original.
            var endpoint = context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
            request.Route = (endpoint as RouteEndpoint)?.RoutePattern.RawText;
            request.EndTimestamp = Stopwatch.GetTimestamp();
            if (inFlight is not null)
            {
                InFlightRequests.Remove(inFlight);
            }

            triggers.OnRequestEnded(context, activity, request.Route, started, unhandled);
        }
    }

    private static bool Remember(Exception exception, out Exception? remembered)
    {
        remembered = exception;
        return false;
    }
}
