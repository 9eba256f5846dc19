namespace TraceProf.AspNetCore.Pyroscope;

/// <summary>What became of one push.</summary>
/// <param name="Result"><c>sent</c>, <c>failed</c> (worth retrying: network, timeout, 429, 5xx) or <c>rejected</c> (any other 4xx).</param>
/// <param name="Detail">Why it failed, for the log; null when sent.</param>
internal sealed record PushOutcome(string Result, string? Detail)
{
    public static PushOutcome Sent { get; } = new("sent", null);

    public bool IsSent => Result == "sent";

    public bool IsRetryable => Result == "failed";

    public static PushOutcome Failed(string detail) => new("failed", detail);

    public static PushOutcome Rejected(string detail) => new("rejected", detail);
}
