using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace TraceProf.AspNetCore.Pyroscope;

/// <summary>
/// Pushes profiles with Pyroscope's Connect push API: one unary <c>POST {Url}/push.v1.PusherService/Push</c> with a
/// JSON <c>PushRequest</c> (Connect's JSON codec: field names in lowerCamelCase, bytes in base64) carrying one series
/// per profile type.
/// </summary>
/// <remarks>
/// Chosen over <c>POST /ingest?name=…&amp;format=pprof</c> because there the server derives each upload's profile
/// type from its sample type names by substring (a column named <c>wall</c> wins, <c>cpu</c> gives
/// <c>process_cpu</c>, and lock or exception columns have no rule), so one upload per kind would still be named by the
/// server's guess; the push API takes the series labels, <c>__name__</c> included, as given, carries every kind in
/// one request, and is what Grafana Alloy's <c>pyroscope.write</c> sends. The JSON codec needs no generated code.
/// </remarks>
internal sealed class PyroscopeClient : IDisposable
{
    /// <summary>The Connect procedure path, relative to the server's base URL.</summary>
    public const string PushPath = "push.v1.PusherService/Push";

    private readonly HttpClient _http;
    private readonly Uri _pushUri;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly string? _tenantId;

    public PyroscopeClient(TraceProfPyroscopeOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = timeout, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            Timeout = timeout,
        };
        var baseUrl = options.Url!.TrimEnd('/') + "/";
        _pushUri = new Uri(new Uri(baseUrl, UriKind.Absolute), PushPath);
        if (!string.IsNullOrEmpty(options.BasicAuthUser))
        {
            _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(options.BasicAuthUser + ":" + options.BasicAuthPassword)));
        }

        _tenantId = options.TenantId;
    }

    /// <summary>Gets the URL profiles are pushed to, for logs: scheme, host, port and path, never user info.</summary>
    public string Target => _pushUri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>Sends one request with every series.</summary>
    /// <param name="series">The profiles.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The outcome.</returns>
    public async Task<PushOutcome> PushAsync(IReadOnlyList<PyroscopeSeries> series, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _pushUri)
        {
            Content = new ByteArrayContent(Serialize(series)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("Connect-Protocol-Version", "1");
        request.Headers.Authorization = _authorization;
        if (_tenantId is not null)
        {
            request.Headers.Add("X-Scope-OrgID", _tenantId);
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return PushOutcome.Sent;
            }

            // Connect errors are JSON {code, message}; a proxy's may be anything. Keep a short prefix for the log.
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var detail = string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode}: {Shorten(body)}");
            var code = response.StatusCode;
            var retry = code is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)code >= 500;
            return retry ? PushOutcome.Failed(detail) : PushOutcome.Rejected(detail);
        }
        catch (HttpRequestException ex)
        {
            return PushOutcome.Failed(ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return PushOutcome.Failed(string.Create(CultureInfo.InvariantCulture, $"no answer within {_http.Timeout.TotalSeconds:0} s"));
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The JSON <c>PushRequest</c>: <c>{"series":[{"labels":[{"name","value"}…],"samples":[{"rawProfile","ID"}]}]}</c>.</summary>
    /// <param name="series">The profiles.</param>
    /// <returns>UTF-8 JSON.</returns>
    internal static byte[] Serialize(IReadOnlyList<PyroscopeSeries> series)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("series");
            foreach (var one in series)
            {
                json.WriteStartObject();
                json.WriteStartArray("labels");
                foreach (var label in one.Labels)
                {
                    json.WriteStartObject();
                    json.WriteString("name", label.Key);
                    json.WriteString("value", label.Value);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteStartArray("samples");
                json.WriteStartObject();
                json.WriteBase64String("rawProfile", one.Pprof);
                json.WriteString("ID", Guid.NewGuid().ToString());
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Shorten(string text)
    {
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length <= 200 ? text : text[..200] + "…";
    }
}
