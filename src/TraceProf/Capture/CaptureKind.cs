namespace TraceProf.Capture;

/// <summary>What a capture records. Each kind maps to one set of EventPipe providers in <c>CaptureProviders</c>.</summary>
public enum CaptureKind
{
    /// <summary>The runtime's thread sampler (every managed thread, about every millisecond) plus method names.</summary>
    Cpu,
}
