using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.AspNetCore.Ui;

namespace TraceProf.AspNetCore.Builder;

/// <summary>
/// The one handler path both placements reach (as HealthChecks' <c>MapHealthChecksCore</c> gives <c>Use*</c> and
/// <c>Map*</c> one pipeline): the route table of the API and of the browser UI, composed here so that neither folder
/// imports the other, and the same answers for a path no route has (404) and a method a route does not take (405).
/// <see cref="TraceProfMiddleware"/> matches the path by hand and calls <see cref="DispatchAsync"/>;
/// <c>MapTraceProf</c> lets endpoint routing match and calls <see cref="InvokeAsync"/> and <see cref="NotFoundAsync"/>.
/// </summary>
internal sealed class TraceProfDispatcher(TraceProfEndpoints endpoints, UiEndpoints ui)
{
    public IReadOnlyList<TraceProfRoute> Routes { get; } = [.. endpoints.Routes, .. ui.Routes];

    /// <summary>Serves a request whose path below the prefix is <paramref name="path"/>: the first route that matches.</summary>
    public Task DispatchAsync(HttpContext context, string path)
    {
        foreach (var route in Routes)
        {
            if (route.TryMatch(path, out var parameter))
            {
                if (parameter is { } p)
                {
                    context.Request.RouteValues[p.Key] = p.Value;
                }

                return InvokeAsync(route, context);
            }
        }

        return NotFoundAsync(context);
    }

    /// <summary>Serves a request already matched to <paramref name="route"/>: a method it does not take gets 405.</summary>
    public static Task InvokeAsync(TraceProfRoute route, HttpContext context)
    {
        if (!route.Allows(context.Request.Method))
        {
            context.Response.Headers.Allow = string.Join(", ", route.AllowedMethods);
            return Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"This TraceProf endpoint accepts {string.Join(", ", route.AllowedMethods)} only.");
        }

        return route.Handler(context);
    }

    /// <summary>Answers a path under the prefix that no route matches.</summary>
    public Task NotFoundAsync(HttpContext context) => endpoints.NotFoundAsync(context);
}
