using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Tests.Ui;

/// <summary>An HTTP client that behaves like a browser towards the UI: keeps cookies, follows no redirects, posts forms.</summary>
internal sealed partial class UiBrowser : IDisposable
{
    private readonly HttpClientHandler _handler;

    public UiBrowser(TraceProfHost host)
        : this(host.Client.BaseAddress!)
    {
    }

    /// <summary>A browser whose requests go to <paramref name="baseAddress"/>: the host itself, or a proxy in front of it.</summary>
    public UiBrowser(Uri baseAddress)
    {
        _handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseCookies = true };
        Client = new HttpClient(_handler) { BaseAddress = baseAddress };
    }

    public HttpClient Client { get; }

    public CookieContainer Cookies => _handler.CookieContainer;

    public Cookie? SessionCookie => Cookies.GetAllCookies().FirstOrDefault(c => c.Name == "traceprof_ui");

    /// <summary>Loads the sign-in form and returns its antiforgery field name and token.</summary>
    public async Task<(string Field, string Token)> FormTokenAsync()
    {
        var html = await Client.GetStringAsync(new Uri("/debug/ui/signin", UriKind.Relative));
        var match = TokenInput().Match(html);
        Assert.True(match.Success, "the sign-in form carries an antiforgery token");
        return (match.Groups["name"].Value, WebUtility.HtmlDecode(match.Groups["value"].Value));
    }

    public async Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        return await Client.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    public async Task<HttpResponseMessage> SignInAsync(string role, string? apiKey = null)
    {
        var (field, token) = await FormTokenAsync();
        return await PostFormAsync("/debug/ui/signin", [new(field, token), new("role", role), new("apiKey", apiKey ?? "")]);
    }

    public Task<HttpResponseMessage> GetAsync(string path) => Client.GetAsync(new Uri(path, UriKind.Relative));

    public void Dispose()
    {
        Client.Dispose();
        _handler.Dispose();
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>__RequestVerificationToken)\" value=\"(?<value>[^\"]+)\">")]
    private static partial Regex TokenInput();
}

internal static class UiSnapshots
{
    /// <summary>Stores a snapshot row without a capture, so page tests need no EventPipe.</summary>
    public static async Task<SnapshotInfo> AddAsync(TraceProfHost host, string traceId, string serviceName = "shop", string trigger = "request", string kind = "cpu")
    {
        var store = host.Services.GetRequiredService<ISnapshotStore>();
        var file = Path.Combine(Path.GetTempPath(), "traceprof-ui-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(file, [1, 2, 3]);
        return await store.AddAsync(
            new SnapshotInfo
            {
                Id = SnapshotIds.NewId(TimeProvider.System),
                TraceId = traceId,
                Kind = kind,
                Trigger = trigger,
                ServiceName = serviceName,
                HostName = "test-host",
                StartedAt = DateTimeOffset.UtcNow,
                Duration = TimeSpan.FromSeconds(2),
            },
            new Dictionary<SnapshotArtifact, string> { [SnapshotArtifact.Pprof] = file },
            CancellationToken.None);
    }
}
