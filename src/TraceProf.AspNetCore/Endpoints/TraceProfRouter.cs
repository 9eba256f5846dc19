using Microsoft.AspNetCore.Http;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// Answers a path below the prefix from the route table: the route's handler, 405 with <c>Allow</c> when the route
/// takes other methods (a capture takes GET only: HEAD must not run one), or 404. The pipeline-first middleware
/// routes every request here; under <c>MapTraceProf</c> endpoint routing picks the routes itself and only what it
/// could not place (an unknown path, or a known path with a method it does not take) reaches this through the
/// group's catch-all, so both placements answer alike.
/// </summary>
internal static class TraceProfRouter
{
    public static Task DispatchAsync(HttpContext context, IReadOnlyList<TraceProfRoute> routes, string path, RequestDelegate notFound)
    {
        foreach (var route in routes)
        {
            if (!route.TryMatch(path, out var parameter))
            {
                continue;
            }

            if (!route.Allows(context.Request.Method))
            {
                context.Response.Headers.Allow = string.Join(", ", route.AllowedMethods);
                return Problems.WriteAsync(
                    context,
                    StatusCodes.Status405MethodNotAllowed,
                    $"This TraceProf endpoint accepts {string.Join(", ", route.AllowedMethods)} only; nothing was run.");
            }

            if (parameter is { } p)
            {
                context.Request.RouteValues[p.Key] = p.Value;
            }

            return route.Handler(context);
        }

        return notFound(context);
    }
}
