using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Tracking;

namespace TraceProf.AspNetCore.Builder;

/// <summary>
/// Puts request tracking and <see cref="TraceProfMiddleware"/> first in the pipeline, so <c>AddTraceProf()</c> alone is
/// enough. Placed first, TraceProf would run before the host's own <c>UseForwardedHeaders()</c> and decide on the
/// proxy's address; so when the host configured forwarded-headers processing, the same middleware with the host's
/// <see cref="ForwardedHeadersOptions"/> runs first for the requests TraceProf answers (and only for those, so the
/// host's pipeline never applies it twice).
/// </summary>
internal sealed class TraceProfStartupFilter(
    IOptions<ForwardedHeadersOptions> forwardedHeaders,
    IConfiguration configuration,
    TraceProfMarker marker,
    IOptions<TraceProfOptions> options) : IStartupFilter
{
    // ASPNETCORE_FORWARDEDHEADERS_ENABLED=true: ASP.NET Core's own startup filter, registered by the web host before
    // any application service, already runs UseForwardedHeaders() ahead of this one.
    private const string HostForwardedHeadersEnabledKey = "ForwardedHeaders_Enabled";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<RequestTrackingMiddleware>();
        if (forwardedHeaders.Value.ForwardedHeaders != ForwardedHeaders.None &&
            !string.Equals(configuration[HostForwardedHeadersEnabledKey], "true", StringComparison.OrdinalIgnoreCase))
        {
            var prefix = new PathString(options.Value.PathPrefix);
            app.UseWhen(
                context => !marker.MappedByEndpointRouting && context.Request.Path.StartsWithSegments(prefix),
                branch => branch.UseForwardedHeaders());
        }

        app.UseMiddleware<TraceProfMiddleware>();
        next(app);
    };
}
