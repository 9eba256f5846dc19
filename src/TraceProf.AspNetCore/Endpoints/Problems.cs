using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>The one place failures become RFC 7807 problem details.</summary>
internal static class Problems
{
    public static Task WriteAsync(HttpContext context, int statusCode, string detail)
    {
        // Once bytes of a profile have gone out, a status can no longer be changed; the client sees a cut response.
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Problem(
                detail: detail,
                statusCode: statusCode,
                title: ReasonPhrases.GetReasonPhrase(statusCode),
                instance: context.Request.Path.Value)
            .ExecuteAsync(context);
    }
}
