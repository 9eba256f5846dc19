namespace TraceProf.AspNetCore;

/// <summary>One entry of the role map: a role name and what it may do.</summary>
public sealed class TraceProfRole
{
    /// <summary>Gets or sets the role name, as sent in the role header (case-sensitive).</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// Gets or sets the capabilities, separated by commas or spaces: <c>cpu</c>, <c>snapshots</c>, or <c>*</c> for
    /// all. Empty means the role may only read the index.
    /// </summary>
    public string Capabilities { get; set; } = "";
}
