using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>The one place failures become RFC 7807 problem details.</summary>
internal static class Problems
{
    // Our own options, not the host's: ASP.NET Core's web defaults relax escaping, and a detail echoes caller
    // input (a profile name from the path), which must never reach a browser as markup.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Answers 429 with <c>Retry-After</c> (whole seconds, at least 1) for a slot that is taken:
    /// "<paramref name="busy"/> Retry in about N s."
    /// </summary>
    public static Task TooManyAsync(HttpContext context, TimeSpan retryAfter, string busy)
    {
        var retrySeconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = retrySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteAsync(context, StatusCodes.Status429TooManyRequests, $"{busy} Retry in about {retrySeconds} s.");
    }

    public static Task WriteAsync(HttpContext context, int statusCode, string detail)
    {
        // Once bytes of a profile have gone out, a status can no longer be changed; the client sees a cut response.
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        var problem = new ProblemDetails
        {
            Type = $"https://tools.ietf.org/html/rfc9110#status.{statusCode}",
            Title = ReasonPhrases.GetReasonPhrase(statusCode),
            Status = statusCode,
            Detail = detail,
            Instance = context.Request.Path.Value,
        };
        return TypedResults.Json(problem, Json, "application/problem+json", statusCode).ExecuteAsync(context);
    }
}
