namespace TraceProf.Capture;

/// <summary>EventPipe cannot be used in this process right now; the message says why and what to do.</summary>
internal sealed class CaptureUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CaptureUnavailableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why, and what to do.</param>
    public CaptureUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why, and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public CaptureUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
