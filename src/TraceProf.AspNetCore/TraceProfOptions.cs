using System.ComponentModel.DataAnnotations;

namespace TraceProf.AspNetCore;

/// <summary>
/// Settings of TraceProf, bound from the <c>TraceProf</c> configuration section and validated at start.
/// </summary>
public sealed class TraceProfOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "TraceProf";

    /// <summary>Default value of <see cref="PathPrefix"/>.</summary>
    public const string DefaultPathPrefix = "/debug";

    /// <summary>Default value of <see cref="RoleHeaderName"/>.</summary>
    public const string DefaultRoleHeaderName = "X-Debug-Role";

    /// <summary>Default value of <see cref="RoleClaimType"/>.</summary>
    public const string DefaultRoleClaimType = "traceprof_role";

    /// <summary>Default value of <see cref="MaxCaptureSeconds"/>.</summary>
    public const int DefaultMaxCaptureSeconds = 300;

    /// <summary>Default value of <see cref="DefaultCaptureSeconds"/>.</summary>
    public const int DefaultDefaultCaptureSeconds = 30;

    /// <summary>
    /// Gets or sets the path under which the endpoints live. Must start with '/' and not end with one.
    /// Default value: <c>/debug</c>.
    /// </summary>
    public string PathPrefix { get; set; } = DefaultPathPrefix;

    /// <summary>Gets or sets the request header that names the caller's role. Default value: <c>X-Debug-Role</c>.</summary>
    public string RoleHeaderName { get; set; } = DefaultRoleHeaderName;

    /// <summary>
    /// Gets or sets the claim type that carries TraceProf roles on the host's authenticated user.
    /// Default value: <c>traceprof_role</c>.
    /// </summary>
    public string RoleClaimType { get; set; } = DefaultRoleClaimType;

    /// <summary>
    /// Gets or sets whether a role header from a direct loopback request is trusted without other proof, so that
    /// <c>curl localhost</c> works in development. Direct means: a loopback connection, no forwarding header
    /// (<c>Forwarded</c>, <c>X-Forwarded-*</c>, <c>X-Real-IP</c>, …), and a <c>Host</c> of <c>localhost</c>,
    /// 127.x.x.x or <c>[::1]</c>. Outside Development, on with no API key logs a Warning at start; turn it off
    /// wherever anything on the machine forwards traffic to the app. Default value: <see langword="true"/>.
    /// </summary>
    public bool TrustLoopback { get; set; } = true;

    /// <summary>
    /// Gets the SHA-256 hashes (64 hex digits) of the API keys that prove a role header. A caller sends the key
    /// itself as <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Debug-Key: &lt;key&gt;</c>; only hashes are
    /// configured, and they are compared in constant time. Default value: empty (no API keys).
    /// </summary>
    public IList<string> ApiKeyHashes { get; } = [];

    /// <summary>
    /// Gets the API keys bound to a role: a request proven by one of these keys (as <c>Authorization: Bearer</c>,
    /// <c>X-Debug-Key</c>, or the password of <c>Authorization: Basic</c>, whose user name is ignored) acts as the key's
    /// role without a role header; a role header, if sent, may only narrow it. Default value: empty.
    /// </summary>
    public IList<TraceProfApiKey> ApiKeys { get; } = [];

    /// <summary>
    /// Gets or sets the role a request on a trusted loopback connection (see <see cref="TrustLoopback"/>) acts as when it
    /// sends no role header, so <c>go tool pprof http://localhost:5000/debug/pprof/heap</c> works on a developer's
    /// machine. An empty string means none: such a request must name its role. Default value: <see langword="null"/>,
    /// meaning <c>admin</c> when the host environment is Development and none otherwise.
    /// </summary>
    public string? LoopbackRole { get; set; }

    /// <summary>
    /// Gets the role map. Defaults: <c>admin</c> → every capability, <c>sre:profile</c> → <c>cpu</c>,
    /// <c>readonly</c> → none. Roles from configuration are added after the defaults; a later role with the
    /// same name replaces an earlier one.
    /// </summary>
    public IList<TraceProfRole> Roles { get; } =
    [
        new() { Name = "admin", Capabilities = "*" },
        new() { Name = "sre:profile", Capabilities = "cpu" },
        new() { Name = "readonly", Capabilities = "" },
    ];

    /// <summary>Gets or sets the longest capture a caller may ask for, in seconds. Default value: 300. Range: 1 to 3600.</summary>
    [Range(1, 3600)]
    public int MaxCaptureSeconds { get; set; } = DefaultMaxCaptureSeconds;

    /// <summary>
    /// Gets or sets the capture length when a request has no <c>seconds</c>. Default value: 30. Range: 1 to
    /// <see cref="MaxCaptureSeconds"/>.
    /// </summary>
    [Range(1, 3600)]
    public int DefaultCaptureSeconds { get; set; } = DefaultDefaultCaptureSeconds;

    /// <summary>
    /// Gets or sets the service name written on every snapshot. Default value: <see langword="null"/>, meaning the
    /// host's application name.
    /// </summary>
    public string? ServiceName { get; set; }

    /// <summary>Gets the snapshot store settings.</summary>
    public TraceProfStorageOptions Storage { get; } = new();

    /// <summary>Gets the flight recorder settings: failed and slow requests saved automatically.</summary>
    public TraceProfFlightRecorderOptions FlightRecorder { get; } = new();

    /// <summary>Gets how CPU is sampled (<c>TraceProf:Cpu:Sampler</c> = auto, perf or eventpipe).</summary>
    public TraceProfCpuOptions Cpu { get; } = new();

    /// <summary>Gets the heap snapshot's bounds (<c>/debug/pprof/heap</c>).</summary>
    public TraceProfHeapOptions Heap { get; } = new();

    /// <summary>Gets the Grafana Pyroscope push settings (off unless <c>Url</c> is set).</summary>
    public TraceProfPyroscopeOptions Pyroscope { get; } = new();

    /// <summary>
    /// Gets or sets whether the exceptions profile labels each exception with its message (cut to 128 characters).
    /// Messages often carry user data. Default value: false.
    /// </summary>
    public bool ExceptionMessages { get; set; }
}
