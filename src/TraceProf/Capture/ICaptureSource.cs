namespace TraceProf.Capture;

/// <summary>Records an EventPipe capture of this process into a <c>.nettrace</c> file.</summary>
internal interface ICaptureSource
{
    /// <summary>
    /// Captures for <paramref name="duration"/>. On cancellation the session stops promptly, the partial file is
    /// deleted and <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    /// <param name="session">What the session records (for a kind: <c>Kinds.KindCaptures</c>).</param>
    /// <param name="duration">How long.</param>
    /// <param name="nettracePath">The file to write; it must not exist.</param>
    /// <param name="cancellationToken">Stops the capture early, discarding it.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="CaptureUnavailableException">EventPipe cannot be used in this process.</exception>
    Task<CaptureResult> CaptureAsync(SessionSpec session, TimeSpan duration, string nettracePath, CancellationToken cancellationToken);
}
