using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>Wraps a handler of the API routes: the no-sniff and no-store headers, then the gate, then the handler.</summary>
internal sealed class EndpointGuard(TraceProfGate gate, ILogger<TraceProfEndpoints> logger) // the category the endpoints always logged under
{
    public RequestDelegate Guard(Capabilities required, RequestDelegate handler) => async context =>
    {
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-store";
        var decision = await gate.AuthorizeAsync(context, required).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            Log.AccessDenied(logger, context.Request.Path.Value ?? "", decision.StatusCode);
            await Problems.WriteAsync(context, decision.StatusCode, decision.Detail!).ConfigureAwait(false);
            return;
        }

        await handler(context).ConfigureAwait(false);
    };
}
