using System.Net;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>Hosts shared by the table: one trusting loopback (development defaults), one that does not.</summary>
public sealed class HandlerTableHosts : IAsyncLifetime
{
    public TraceProfHost Loopback { get; private set; } = null!;

    public TraceProfHost Strict { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Loopback = await TraceProfHost.StartAsync();
        Strict = await TraceProfHost.StartAsync(o => o.TrustLoopback = false);
    }

    public async Task DisposeAsync()
    {
        await Loopback.DisposeAsync();
        await Strict.DisposeAsync();
    }
}

/// <summary>Path × role × proof → status, content type and headers, through real HTTP (like Go's TestHandlers).</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class HandlerTableTests(HandlerTableHosts hosts) : IClassFixture<HandlerTableHosts>
{
    private const string Problem = "application/problem+json";
    private const string Json = "application/json";
    private const string Pprof = "application/octet-stream";

    public static TheoryData<string, string, string?, string?, int, string> Cases => new()
    {
        // host, path, role, api key, status, content type
        { "loopback", "/debug/pprof/", "readonly", null, 200, Json },
        { "loopback", "/debug/pprof", "admin", null, 200, Json },
        { "loopback", "/debug/pprof/", null, null, 403, Problem },
        { "loopback", "/debug/pprof/", "root", null, 403, Problem },
        { "strict", "/debug/pprof/", "admin", null, 401, Problem },
        { "strict", "/debug/pprof/", "admin", "wrong-key", 401, Problem },
        { "strict", "/debug/pprof/", "readonly", TraceProfHost.ApiKey, 200, Json },
        { "loopback", "/debug/profile?seconds=1", "sre:profile", null, 200, Pprof },
        { "strict", "/debug/pprof/profile?seconds=1", "admin", TraceProfHost.ApiKey, 200, Pprof },
        { "strict", "/debug/profile?seconds=1", "sre:profile", null, 401, Problem },
        { "loopback", "/debug/profile?seconds=1", "readonly", null, 403, Problem },
        { "loopback", "/debug/profile?seconds=1", "unknown-role", null, 403, Problem },
        { "loopback", "/debug/profile?seconds=0", "admin", null, 400, Problem },
        { "loopback", "/debug/profile?seconds=-1", "admin", null, 400, Problem },
        { "loopback", "/debug/profile?seconds=abc", "admin", null, 400, Problem },
        { "loopback", "/debug/profile?seconds=1.5", "admin", null, 400, Problem },
        { "loopback", "/debug/profile?seconds=301", "admin", null, 400, Problem },
        { "loopback", "/debug/profile?seconds=1&seconds=2", "admin", null, 400, Problem },
        { "loopback", "/debug/profile?seconds=1&format=svg", "admin", null, 400, Problem },
        { "loopback", "/debug/pprof/allocs?seconds=1", "sre:profile", null, 403, Problem },
        { "loopback", "/debug/pprof/contention?seconds=0", "admin", null, 400, Problem },
        { "loopback", "/debug/pprof/mutex?seconds=1", "sre:profile", null, 403, Problem },
        { "loopback", "/debug/pprof/block?seconds=x", "admin", null, 400, Problem },
        { "loopback", "/debug/pprof/threads", "sre:profile", null, 403, Problem },
        { "loopback", "/debug/pprof/goroutine?debug=3", "admin", null, 400, Problem },
        { "loopback", "/debug/pprof/goroutine", "admin", null, 200, Pprof },
        { "loopback", "/debug/pprof/trace?seconds=1", "sre:profile", null, 403, Problem },
        { "loopback", "/debug/pprof/trace?seconds=1&format=pprof", "admin", null, 200, Pprof },
        { "loopback", "/debug/pprof/nosuchprofile", "admin", null, 404, Problem },
        { "loopback", "/debug/snapshots", "admin", null, 200, Json },
        { "loopback", "/debug/snapshots?kind=allocs", "admin", null, 200, Json },
        { "loopback", "/debug/snapshots", "sre:profile", null, 403, Problem },
        { "loopback", "/debug/snapshots?traceId=xyz", "admin", null, 400, Problem },
        { "loopback", "/debug/snapshots?traceId=4BF92F3577B34DA6A3CE929D0E0E4736", "admin", null, 400, Problem },
        { "loopback", "/debug/snapshots?traceId=00000000000000000000000000000000", "admin", null, 400, Problem },
        { "loopback", "/debug/snapshots?limit=0", "admin", null, 400, Problem },
        { "loopback", "/debug/snapshots?since=yesterday", "admin", null, 400, Problem },
        { "loopback", "/debug/snapshots?kind=gpu", "admin", null, 400, Problem },
        { "loopback", "/debug/snapshots/..%2F..%2Fetc%2Fpasswd", "admin", null, 400, Problem },
        { "loopback", "/debug/snapshots/0123456789abcdef0123456789abcdef", "admin", null, 404, Problem },
        { "loopback", "/debug/snapshots/0123456789abcdef0123456789abcdef?format=nope", "admin", null, 400, Problem },
        { "loopback", "/debug/traces/xyz", "admin", null, 400, Problem },
        { "loopback", "/debug/traces/4bf92f3577b34da6a3ce929d0e0e4736", "sre:profile", null, 403, Problem },
        { "loopback", "/debug/traces/4bf92f3577b34da6a3ce929d0e0e4736", "admin", null, 404, Problem },
        { "loopback", "/debug/traces/4bf92f3577b34da6a3ce929d0e0e4736?format=nettrace", "admin", null, 400, Problem },
        { "loopback", "/debug/pprof/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "admin", null, 404, Problem },
        { "loopback", "/debug/pprof/heapz", "readonly", null, 404, Problem },
        { "loopback", "/debug/no-such-endpoint", "admin", null, 404, Problem },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Handler_AnswersWithStatusContentTypeAndHeaders(string host, string path, string? role, string? apiKey, int status, string contentType)
    {
        var client = (host == "strict" ? hosts.Strict : hosts.Loopback).Client;
        using var response = await client.SendAsync(Requests.Get(path, role, apiKey));
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(status == (int)response.StatusCode, $"{path} as {role}: expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));

        if (contentType == Problem)
        {
            using var problem = JsonDocument.Parse(body);
            Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));

            // Whatever the caller put in the path or query comes back escaped, never as markup.
            Assert.DoesNotContain("<script>", body, StringComparison.OrdinalIgnoreCase);
        }

        if (status == 401)
        {
            Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        if (contentType == Pprof)
        {
            Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
            Assert.EndsWith(".pb.gz", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
            Assert.Matches("^[0-9a-f]{32}$", Assert.Single(response.Headers.GetValues("X-TraceProf-Snapshot-Id")));
            Assert.Matches("^[0-9a-f]{32}$", Assert.Single(response.Headers.GetValues("X-TraceProf-Trace-Id")));
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.True(bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b, "a pprof answer is gzip");
        }
    }

    [Fact]
    public async Task Problem_DetailSaysWhatIsAllowed()
    {
        using var response = await hosts.Loopback.Client.SendAsync(Requests.Get("/debug/profile?seconds=abc", "admin"));
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("seconds must be an integer from 1 to 300; got 'abc'.", problem.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Index_ForBrowsers_IsEscapedHtml()
    {
        using var request = Requests.Get("/debug/pprof/", "readonly");
        request.Headers.Add("Accept", "text/html");
        using var response = await hosts.Loopback.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("/debug/pprof/profile?seconds=30", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtherRequests_PassThroughUntouched()
    {
        using var response = await hosts.Strict.Client.GetAsync(new Uri("/hello", UriKind.Relative));
        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
    }
}
