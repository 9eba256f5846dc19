namespace TraceProf.AspNetCore.Security;

/// <summary>The role map from <see cref="TraceProfOptions.Roles"/>, parsed once; later entries replace earlier ones.</summary>
internal sealed class RoleMap
{
    private readonly Dictionary<string, Capabilities> _roles = new(StringComparer.Ordinal);

    public RoleMap(IEnumerable<TraceProfRole> roles)
    {
        foreach (var role in roles)
        {
            if (!CapabilityNames.TryParseList(role.Capabilities, out var capabilities, out var unknown))
            {
                throw new InvalidOperationException(
                    $"TraceProf role '{role.Name}' names an unknown capability '{unknown}'; known: *, {string.Join(", ", CapabilityNames.All)}.");
            }

            _roles[role.Name] = capabilities;
        }
    }

    public IEnumerable<string> Names => _roles.Keys;

    public bool TryGet(string role, out Capabilities capabilities) => _roles.TryGetValue(role, out capabilities);

    /// <summary>
    /// Whether <paramref name="narrower"/> asks for nothing beyond <paramref name="wider"/>: both are known and every
    /// capability of the first is one of the second's. A role always narrows itself. This is how a role header may
    /// pick a role under the one an API key is bound to, never above it.
    /// </summary>
    public bool Narrows(string narrower, string wider) =>
        _roles.TryGetValue(narrower, out var asked) && _roles.TryGetValue(wider, out var bound) && (asked & ~bound) == Capabilities.None;

    public IEnumerable<string> RolesWith(Capabilities capability) =>
        _roles.Where(r => r.Value.HasFlag(capability)).Select(r => r.Key);
}
