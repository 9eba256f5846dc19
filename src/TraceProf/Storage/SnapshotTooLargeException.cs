namespace TraceProf.Storage;

/// <summary>A snapshot's files together are larger than the store may hold at all (its total-bytes retention limit).</summary>
public sealed class SnapshotTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SnapshotTooLargeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was too large, and the limit.</param>
    public SnapshotTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was too large, and the limit.</param>
    /// <param name="innerException">The cause.</param>
    public SnapshotTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
