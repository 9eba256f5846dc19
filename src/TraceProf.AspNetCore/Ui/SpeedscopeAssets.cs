using System.Collections.Concurrent;

namespace TraceProf.AspNetCore.Ui;

/// <summary>
/// The speedscope release files embedded at build time (see <c>Ui/speedscope/Speedscope.targets</c>), by file name,
/// with their content types. Files are read from the assembly once, on first use.
/// </summary>
internal sealed class SpeedscopeAssets
{
    public const string IndexFile = "index.html";
    private const string ResourcePrefix = "TraceProf.Ui.Speedscope/";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".json"] = "application/json",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".woff2"] = "font/woff2",
        [".wasm"] = "application/wasm",
        [".txt"] = "text/plain; charset=utf-8",
        [".md"] = "text/plain; charset=utf-8",
        [""] = "text/plain; charset=utf-8",
    };

    private readonly ConcurrentDictionary<string, byte[]?> _cache = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names;

    public SpeedscopeAssets()
    {
        _names = typeof(SpeedscopeAssets).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..])
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>False when the assembly was built with <c>-p:TraceProfEmbedSpeedscope=false</c>.</summary>
    public bool Available => _names.Contains(IndexFile);

    public static string ContentType(string fileName) =>
        ContentTypes.TryGetValue(Path.GetExtension(fileName), out var type) ? type : "application/octet-stream";

    /// <summary>The file's bytes, or null when no such file is embedded (names are matched exactly, no paths).</summary>
    public byte[]? Get(string fileName) => !_names.Contains(fileName) ? null : _cache.GetOrAdd(fileName, Load);

    private static byte[]? Load(string fileName)
    {
        using var stream = typeof(SpeedscopeAssets).Assembly.GetManifestResourceStream(ResourcePrefix + fileName);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream((int)stream.Length);
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
