using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore;
using TraceProf.AspNetCore.Builder;
using TraceProf.AspNetCore.Endpoints;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Places the TraceProf endpoints in endpoint routing.</summary>
public static class TraceProfEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the TraceProf endpoints under the configured prefix (default <c>/debug</c>) instead of the
    /// pipeline-first placement that <c>AddTraceProf</c> makes on its own, so that the host can add conventions,
    /// for example <c>.RequireAuthorization("ops")</c>. The role gate still applies.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (the <c>WebApplication</c>).</param>
    /// <returns>The route group, for conventions.</returns>
    /// <exception cref="InvalidOperationException"><c>AddTraceProf</c> was not called.</exception>
    public static RouteGroupBuilder MapTraceProf(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var marker = endpoints.ServiceProvider.GetService<TraceProfMarker>()
            ?? throw new InvalidOperationException(
                "Unable to find the required services. Add them by calling 'builder.Services.AddTraceProf()' before 'app.MapTraceProf()'.");
        var dispatcher = endpoints.ServiceProvider.GetRequiredService<TraceProfDispatcher>();
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<TraceProfOptions>>().Value;
        marker.MappedByEndpointRouting = true;

        var group = endpoints.MapGroup(options.PathPrefix);
        foreach (var route in dispatcher.Routes)
        {
            // Endpoint routing already matches "/pprof" with and without the trailing slash.
            if (route.Template.EndsWith('/'))
            {
                continue;
            }

            // Every method reaches the dispatcher, which answers a method the route does not take with the same 405
            // problem as the middleware placement (routing's own 405 has no body).
            group.Map(route.Template, context => TraceProfDispatcher.InvokeAsync(route, context))
                .WithDisplayName($"TraceProf {route.Template}")
                .WithMetadata(new TraceProfEndpointMetadata(route.Description));
        }

        group.Map("/{**path}", dispatcher.NotFoundAsync).WithDisplayName("TraceProf not found");
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("TraceProf.AspNetCore");
        Log.EndpointsMapped(logger, options.PathPrefix, "MapTraceProf");
        return group;
    }
}
