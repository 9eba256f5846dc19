using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Endpoints;

namespace TraceProf.AspNetCore;

/// <summary>
/// Serves the endpoints when the host did not call <c>MapTraceProf</c>. For every other request it costs one
/// path-prefix comparison.
/// </summary>
internal sealed class TraceProfMiddleware(RequestDelegate next, TraceProfEndpoints endpoints, TraceProfMarker marker, IOptions<TraceProfOptions> options)
{
    private readonly PathString _prefix = new(options.Value.PathPrefix);

    public Task InvokeAsync(HttpContext context)
    {
        if (marker.MappedByEndpointRouting || !context.Request.Path.StartsWithSegments(_prefix, out var rest))
        {
            return next(context);
        }

        return TraceProfRouter.DispatchAsync(context, endpoints.Routes, rest.Value ?? "", endpoints.NotFoundAsync);
    }
}
