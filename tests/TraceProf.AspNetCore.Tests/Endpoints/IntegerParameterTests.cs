using System.Net;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>One host for the table: every bad value is refused before anything runs, so nothing is captured.</summary>
public sealed class IntegerParameterHost : IAsyncLifetime
{
    public TraceProfHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await TraceProfHost.StartAsync();

    public Task DisposeAsync() => Host.DisposeAsync().AsTask();
}

/// <summary>
/// Every integer query parameter takes ASCII digits only: <c>int.TryParse</c> alone let <c>1%00</c> through as 1.
/// </summary>
public sealed class IntegerParameterTests(IntegerParameterHost fixture) : IClassFixture<IntegerParameterHost>
{
    private const string SnapshotId = "0123456789abcdef0123456789abcdef";

    // The parameter's name, the routes that read it.
    private static readonly (string Name, string[] Paths)[] Parameters =
    [
        ("seconds", ["/debug/profile", "/debug/pprof/profile", "/debug/pprof/allocs", "/debug/pprof/contention", "/debug/pprof/mutex", "/debug/pprof/block", "/debug/pprof/trace"]),
        ("limit", ["/debug/snapshots", "/debug/ui/"]),
        ("debug", ["/debug/pprof/threads", "/debug/pprof/goroutine", $"/debug/snapshots/{SnapshotId}"]),
    ];

    // As sent on the wire: a trailing NUL, a sign, white space either side, an Arabic-Indic and a full-width five,
    // a decimal, an exponent, a thousands separator, hex, and a number past int.MaxValue.
    private static readonly string[] BadValues =
    [
        "1%00", "5%00", "%2B5", "-5", "%205", "5%20", "%D9%A5", "%EF%BC%95", "5.0", "1e1", "5%2C0", "0x5", "99999999999", "2147483648",
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, paths) in Parameters)
        {
            foreach (var path in paths)
            {
                foreach (var value in BadValues)
                {
                    data.Add(path, $"{name}={value}");
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task IntegerParameter_NotAsciiDigits_Returns400_AndRunsNothing(string path, string query)
    {
        using var response = await fixture.Host.Client.SendAsync(Requests.Get($"{path}?{query}", "admin"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}?{query}: expected 400, got {(int)response.StatusCode}: {body}");
        if (!path.StartsWith("/debug/ui", StringComparison.Ordinal))
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith(query[..query.IndexOf('=', StringComparison.Ordinal)] + " must be", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
        }

        Assert.False(response.Headers.Contains("X-TraceProf-Snapshot-Id"), "a refused request stores no snapshot");
    }

    [Fact]
    public async Task Seconds_WithTrailingNul_DetailEchoesTheNulEscaped()
    {
        using var response = await fixture.Host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1%00", "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("seconds must be an integer from 1 to 300; got '1\\u0000'.", await ProblemResponses.DetailAsync(response));
    }

    [Fact]
    public async Task Limit_WithTrailingNul_DetailEchoesTheNulEscaped()
    {
        using var response = await fixture.Host.Client.SendAsync(Requests.Get("/debug/snapshots?limit=5%00", "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($"limit must be an integer from 1 to 1000; got '5\\u0000'.", await ProblemResponses.DetailAsync(response));
    }

    [Theory]
    [InlineData("/debug/snapshots?limit=5")]
    [InlineData("/debug/snapshots?limit=0005")]
    [InlineData("/debug/ui/?limit=5")]
    [InlineData("/debug/snapshots?since=2026-01-31")]
    [InlineData("/debug/snapshots?since=2026-01-31T12:00:00Z")]
    [InlineData("/debug/snapshots?since=2026-01-31T12:00:00.123%2B01:00")]
    public async Task ReadParameters_AsciiDigits_AreAccepted(string path)
    {
        using var response = await fixture.Host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("2026-01-31%00")]
    [InlineData("%202026-01-31")]
    [InlineData("2026-01-31T12:00:00Z%00")]
    [InlineData("31/01/2026")]
    [InlineData("Jan%2031%202026")]
    [InlineData("yesterday")]
    public async Task Since_NotIso8601_Returns400(string value)
    {
        using var response = await fixture.Host.Client.SendAsync(Requests.Get($"/debug/snapshots?since={value}", "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("since must be an ISO 8601", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedCaptures_StoreNoSnapshot()
    {
        foreach (var value in BadValues)
        {
            (await fixture.Host.Client.SendAsync(Requests.Get($"/debug/profile?seconds={value}", "admin"))).Dispose();
        }

        using var list = await fixture.Host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        using var json = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        Assert.Equal(0, json.RootElement.GetProperty("count").GetInt32());
    }
}
