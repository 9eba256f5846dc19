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

    public IEnumerable<string> RolesWith(Capabilities capability) =>
        _roles.Where(r => r.Value.HasFlag(capability)).Select(r => r.Key);
}
