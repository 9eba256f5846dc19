using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Endpoints;

namespace TraceProf.AspNetCore.Builder;

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

        var path = rest.Value ?? "";
        foreach (var route in endpoints.Routes)
        {
            if (route.TryMatch(path, out var parameter))
            {
                if (!route.Allows(context.Request.Method))
                {
                    context.Response.Headers.Allow = string.Join(", ", route.AllowedMethods);
                    return Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"This TraceProf endpoint accepts {string.Join(", ", route.AllowedMethods)} only.");
                }

                if (parameter is { } p)
                {
                    context.Request.RouteValues[p.Key] = p.Value;
                }

                return route.Handler(context);
            }
        }

        return endpoints.NotFoundAsync(context);
    }
}
