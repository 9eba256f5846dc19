using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TraceProf.Attribution;

namespace TraceProf.AspNetCore.Tracking;

/// <summary>
/// While a capture listens, tells the span timeline the method and route of each request, so that samples get
/// <c>http.method</c> and <c>http.route</c>. Otherwise it costs one volatile read per request.
/// </summary>
internal sealed class RequestTrackingMiddleware(RequestDelegate next)
{
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
        var request = new RequestDescription(context.Request.Method);
        request.AttachTo(activity);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            // Routing has run by now; labels are resolved after the capture, so a late route still lands.
            request.Route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        }
    }
}
