using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// One endpoint: a template relative to the prefix (<c>/snapshots/{id}</c>), what it needs, its handler, and the HTTP
/// methods it answers (GET and HEAD unless given; the browser UI's sign-in and sign-out also take POST).
/// </summary>
internal sealed record TraceProfRoute(string Template, Capabilities Required, RequestDelegate Handler, string Description, IReadOnlyList<string>? Methods = null)
{
    private static readonly string[] ReadMethods = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>The methods the route answers.</summary>
    public IReadOnlyList<string> AllowedMethods => Methods ?? ReadMethods;

    /// <summary>Whether the route answers <paramref name="method"/>.</summary>
    public bool Allows(string method) => AllowedMethods.Any(m => HttpMethods.Equals(m, method));

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
