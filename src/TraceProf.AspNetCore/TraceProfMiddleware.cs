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

        var path = rest.Value ?? "";
        foreach (var route in endpoints.Routes)
        {
            if (route.TryMatch(path, out var parameter))
            {
                if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
                {
                    context.Response.Headers.Allow = "GET, HEAD";
                    return Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "TraceProf endpoints accept GET only.");
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
