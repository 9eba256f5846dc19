using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace TraceProf.AspNetCore.Builder;

/// <summary>
/// Serves the endpoints when the host did not call <c>MapTraceProf</c>, through the same
/// <see cref="TraceProfDispatcher"/> that <c>MapTraceProf</c> maps. For every other request it costs one
/// path-prefix comparison.
/// </summary>
internal sealed class TraceProfMiddleware(RequestDelegate next, TraceProfDispatcher dispatcher, TraceProfMarker marker, IOptions<TraceProfOptions> options)
{
    private readonly PathString _prefix = new(options.Value.PathPrefix);

    public Task InvokeAsync(HttpContext context)
    {
        if (marker.MappedByEndpointRouting || !context.Request.Path.StartsWithSegments(_prefix, out var rest))
        {
            return next(context);
        }

        return dispatcher.DispatchAsync(context, rest.Value ?? "");
    }
}
