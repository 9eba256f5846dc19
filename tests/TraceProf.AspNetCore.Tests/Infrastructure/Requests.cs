namespace TraceProf.AspNetCore.Tests.Infrastructure;

internal static class Requests
{
    public static HttpRequestMessage Get(string path, string? role = null, string? apiKey = null, string? traceparent = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (role is not null)
        {
            request.Headers.Add("X-Debug-Role", role);
        }

        if (apiKey is not null)
        {
            request.Headers.Add("X-Debug-Key", apiKey);
        }

        if (traceparent is not null)
        {
            request.Headers.Add("traceparent", traceparent);
        }

        return request;
    }
}

internal static class ProblemResponses
{
    public static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("detail").GetString() ?? "";
    }
}
