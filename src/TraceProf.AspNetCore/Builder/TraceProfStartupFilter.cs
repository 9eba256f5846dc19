using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using TraceProf.AspNetCore.Tracking;

namespace TraceProf.AspNetCore.Builder;

/// <summary>Puts request tracking and <see cref="TraceProfMiddleware"/> first in the pipeline, so <c>AddTraceProf()</c> alone is enough.</summary>
internal sealed class TraceProfStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<RequestTrackingMiddleware>();
        app.UseMiddleware<TraceProfMiddleware>();
        next(app);
    };
}
