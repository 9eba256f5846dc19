namespace TraceProf.AspNetCore;

/// <summary>
/// One API key bound to a role (<see cref="TraceProfOptions.ApiKeys"/>): a request proven by the key acts as
/// <see cref="Role"/> without sending the role header, which is what a tool that sends no custom headers
/// (<c>go tool pprof http://trace:KEY@host/debug/pprof/profile</c>) needs.
/// </summary>
public sealed class TraceProfApiKey
{
    /// <summary>Gets or sets the SHA-256 of the key, as 64 hex digits (<c>printf %s "$KEY" | sha256sum</c>).</summary>
    public string Hash { get; set; } = "";

    /// <summary>
    /// Gets or sets the role the key proves; one of <see cref="TraceProfOptions.Roles"/>. A role header sent with the key
    /// may only narrow it: name a role whose capabilities are all within this one's.
    /// </summary>
    public string Role { get; set; } = "";
}
