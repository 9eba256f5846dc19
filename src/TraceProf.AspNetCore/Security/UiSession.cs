namespace TraceProf.AspNetCore.Security;

/// <summary>
/// What the browser UI's session cookie carries: the role picked at sign-in, the proof given for it
/// (<c>loopback</c> or <c>api-key</c>) and, for an API key, the SHA-256 of that key so that removing the key from
/// configuration ends every session it opened.
/// </summary>
internal sealed record UiSession(string Role, string Proof, string? KeyHash)
{
    public const string LoopbackProof = "loopback";
    public const string ApiKeyProof = "api-key";
}
