using System.Security.Cryptography;

namespace TraceProf.AspNetCore.Security;

/// <summary>
/// Checks a presented API key against configured SHA-256 hashes without leaking timing. A key comes from
/// <see cref="TraceProfOptions.ApiKeyHashes"/> (proves whatever role header it is sent with) or from
/// <see cref="TraceProfOptions.ApiKeys"/> (bound to a role: it proves that role, or a narrower one).
/// </summary>
internal sealed class ApiKeyVerifier
{
    private readonly Entry[] _entries;

    public ApiKeyVerifier(IEnumerable<string> hexHashes, IEnumerable<TraceProfApiKey>? boundKeys = null)
    {
        var entries = new List<Entry>();
        foreach (var key in boundKeys ?? [])
        {
            entries.Add(new Entry(Parse(key.Hash, "TraceProf:ApiKeys"), string.IsNullOrEmpty(key.Role)
                ? throw new InvalidOperationException("Every TraceProf:ApiKeys entry needs a Role.")
                : key.Role));
        }

        // A hash listed in both places is bound: the role binding is the narrower reading.
        foreach (var hex in hexHashes)
        {
            var hash = Parse(hex, "TraceProf:ApiKeyHashes");
            if (!entries.Any(e => e.Hash.AsSpan().SequenceEqual(hash)))
            {
                entries.Add(new Entry(hash, null));
            }
        }

        _entries = [.. entries];
    }

    public bool HasKeys => _entries.Length > 0;

    public static bool IsValidHash(string hex) => hex.Length == 64 && hex.All(Uri.IsHexDigit);

    public static byte[] HashOf(string key) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));

    /// <summary>Whether the key is configured; if so, <paramref name="boundRole"/> is its role, or null for a key of <c>ApiKeyHashes</c>.</summary>
    public bool Verify(string presentedKey, out string? boundRole) => IsConfiguredHash(HashOf(presentedKey), out boundRole);

    public bool Verify(string presentedKey) => Verify(presentedKey, out _);

    /// <summary>Whether a SHA-256 of a key (kept by a browser session) is still configured; constant time like <see cref="Verify(string, out string?)"/>.</summary>
    public bool IsConfiguredHash(ReadOnlySpan<byte> hash, out string? boundRole)
    {
        var match = false;
        boundRole = null;

        // Compare against every configured hash, always, so the time taken says nothing about which (if any) matched.
        foreach (var entry in _entries)
        {
            var equal = CryptographicOperations.FixedTimeEquals(hash, entry.Hash);
            if (equal && !match)
            {
                boundRole = entry.Role;
            }

            match |= equal;
        }

        return match;
    }

    public bool IsConfiguredHash(ReadOnlySpan<byte> hash) => IsConfiguredHash(hash, out _);

    private static byte[] Parse(string hex, string setting) =>
        IsValidHash(hex)
            ? Convert.FromHexString(hex)
            : throw new InvalidOperationException($"{setting} entries must be SHA-256 hashes of 64 hex digits.");

    private sealed record Entry(byte[] Hash, string? Role);
}
