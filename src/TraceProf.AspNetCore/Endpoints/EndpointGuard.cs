using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>Wraps a handler of the API routes: the no-sniff and no-store headers, then the gate, then the handler.</summary>
internal sealed class EndpointGuard(TraceProfGate gate, IOptions<TraceProfOptions> options, ILogger<TraceProfEndpoints> logger) // the category the endpoints always logged under
{
    public RequestDelegate Guard(Capabilities required, RequestDelegate handler) => async context =>
    {
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-store";
        var decision = await gate.AuthorizeAsync(context, required).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            Log.AccessDenied(logger, context.Request.Path.Value ?? "", decision.StatusCode);
            if (BrowserPages.WantsHtml(context.Request))
            {
                // A browser opened an API link (the index, a profile): the UI's sign-in hint, not raw JSON.
                var settings = options.Value;
                await BrowserPages.WriteAsync(context, decision.StatusCode, BrowserPages.Denied(settings.PathPrefix, settings.RoleHeaderName, decision.StatusCode, decision.Detail!)).ConfigureAwait(false);
                return;
            }

            await Problems.WriteAsync(context, decision.StatusCode, decision.Detail!).ConfigureAwait(false);
            return;
        }

        await handler(context).ConfigureAwait(false);
    };
}
