using TraceProf.Capture;

namespace TraceProf.Pipeline;

/// <summary>Names and folders for <see cref="CaptureCoordinator"/>.</summary>
internal sealed class CaptureCoordinatorOptions
{
    /// <summary>Gets or sets the folder for captures in progress (deleted or handed to the store when done).</summary>
    public required string TempDirectory { get; init; }

    /// <summary>Gets or sets the service name written on snapshots.</summary>
    public required string ServiceName { get; init; }

    /// <summary>Gets or sets the instance id written on snapshots (OpenTelemetry's <c>service.instance.id</c>).</summary>
    public string? ServiceInstanceId { get; init; }

    /// <summary>Gets or sets whether exceptions profiles label each exception with its message. Default value: false.</summary>
    public bool ExceptionMessages { get; init; }

    /// <summary>Gets or sets the CPU sampler of CPU captures (decided at start). Default value: EventPipe's.</summary>
    public CpuSamplerChoice CpuSampler { get; init; } = CpuSamplerChoice.EventPipeDefault;

    /// <summary>Gets or sets the perf_event sampler's period and bounds. Default value: 10 ms of CPU per sample.</summary>
    public PerfSamplerSettings PerfSampler { get; init; } = new();

    /// <summary>Gets or sets the host name written on snapshots. Default value: <see cref="Environment.MachineName"/>.</summary>
    public string HostName { get; init; } = Environment.MachineName;
}
