using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>One endpoint: a template relative to the prefix (<c>/snapshots/{id}</c>), what it needs, its handler.</summary>
internal sealed record TraceProfRoute(string Template, Capabilities Required, RequestDelegate Handler, string Description)
{
    /// <summary>Matches a path below the prefix against the template; single-segment parameters only.</summary>
    public bool TryMatch(string path, out KeyValuePair<string, string>? parameter)
    {
        parameter = null;
        var templateSegments = Template.Split('/');
        var pathSegments = path.Split('/');
        if (templateSegments.Length != pathSegments.Length)
        {
            return false;
        }

        for (var i = 0; i < templateSegments.Length; i++)
        {
            var t = templateSegments[i];
            if (t.StartsWith('{'))
            {
                parameter = new(t[1..^1], Uri.UnescapeDataString(pathSegments[i]));
                continue;
            }

            if (!string.Equals(t, pathSegments[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
