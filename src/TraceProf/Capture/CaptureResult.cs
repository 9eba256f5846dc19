namespace TraceProf.Capture;

/// <summary>A finished capture.</summary>
/// <param name="StartedAt">When the session started.</param>
/// <param name="Duration">How long it recorded.</param>
/// <param name="Bytes">Size of the <c>.nettrace</c> file.</param>
/// <param name="NettracePath">Where the file is.</param>
internal sealed record CaptureResult(DateTimeOffset StartedAt, TimeSpan Duration, long Bytes, string NettracePath);
