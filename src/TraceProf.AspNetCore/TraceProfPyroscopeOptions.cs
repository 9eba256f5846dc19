using System.ComponentModel.DataAnnotations;

namespace TraceProf.AspNetCore;

/// <summary>
/// Continuous profiling: push the flight recorder's window to Grafana Pyroscope every
/// <see cref="UploadIntervalSeconds"/>, one series per recorded kind (<c>process_cpu</c>, <c>wall</c>, <c>lock</c>,
/// <c>memory</c>, <c>exception</c>), labelled so that Grafana's traces-to-profiles link finds a request's samples.
/// Off unless <see cref="Url"/> is set; needs the flight recorder (<c>TraceProf:FlightRecorder:Enabled</c>).
/// </summary>
public sealed class TraceProfPyroscopeOptions
{
    /// <summary>The default of <see cref="UploadIntervalSeconds"/>.</summary>
    public const int DefaultUploadIntervalSeconds = 15;

    /// <summary>The default of <see cref="TimeoutSeconds"/>.</summary>
    public const int DefaultTimeoutSeconds = 10;

    /// <summary>
    /// Gets or sets the Pyroscope server's base URL (http or https), for example <c>http://pyroscope:4040</c> or a
    /// Grafana Cloud Profiles URL. Profiles are pushed to <c>{Url}/push.v1.PusherService/Push</c>. Default value:
    /// <see langword="null"/> (nothing is pushed).
    /// </summary>
    public string? Url { get; set; }

    /// <summary>
    /// Gets or sets the <c>service_name</c> label of every series. Default value: <see langword="null"/>, meaning
    /// TraceProf's service name (<c>TraceProf:ServiceName</c>, else OpenTelemetry's <c>service.name</c>, else the
    /// application name).
    /// </summary>
    public string? ApplicationName { get; set; }

    /// <summary>Gets or sets the HTTP Basic user (Grafana Cloud: the stack's user id). Default value: none.</summary>
    public string? BasicAuthUser { get; set; }

    /// <summary>Gets or sets the HTTP Basic password (Grafana Cloud: an access token). Never logged. Default value: none.</summary>
    public string? BasicAuthPassword { get; set; }

    /// <summary>Gets or sets the tenant sent as <c>X-Scope-OrgID</c> to a multi-tenant Pyroscope. Default value: none.</summary>
    public string? TenantId { get; set; }

    /// <summary>
    /// Gets extra labels on every series (for example <c>env=prod</c>, <c>region=eu</c>). Names must match
    /// <c>[a-zA-Z_][a-zA-Z0-9_]*</c> and not start with <c>__</c>. Default value: none.
    /// </summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets how often the recorder's window since the last upload is pushed, in seconds; at most the recorder's
    /// window (<c>TraceProf:FlightRecorder:WindowSeconds</c>), or samples are lost between uploads. Default value: 15.
    /// Range: 5 to 600.
    /// </summary>
    [Range(5, 600)]
    public int UploadIntervalSeconds { get; set; } = DefaultUploadIntervalSeconds;

    /// <summary>Gets or sets how long one upload may take, in seconds. Default value: 10. Range: 1 to 120.</summary>
    [Range(1, 120)]
    public int TimeoutSeconds { get; set; } = DefaultTimeoutSeconds;

    /// <summary>Gets whether pushing is on (<see cref="Url"/> is set).</summary>
    internal bool Enabled => !string.IsNullOrWhiteSpace(Url);
}
