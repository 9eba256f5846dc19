using System.Security.Cryptography;

namespace TraceProf.AspNetCore.Security;

/// <summary>Checks a presented API key against configured SHA-256 hashes without leaking timing.</summary>
internal sealed class ApiKeyVerifier
{
    private readonly byte[][] _hashes;

    public ApiKeyVerifier(IEnumerable<string> hexHashes)
    {
        _hashes = hexHashes.Select(Parse).ToArray();
    }

    public bool HasKeys => _hashes.Length > 0;

    public static bool IsValidHash(string hex) => hex.Length == 64 && hex.All(Uri.IsHexDigit);

    public bool Verify(string presentedKey)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presentedKey), hash);
        var match = false;

        // Compare against every configured hash, always, so the time taken says nothing about which (if any) matched.
        foreach (var expected in _hashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, expected);
        }

        return match;
    }

    /// <summary>Whether a SHA-256 of a key (kept by a browser session) is still configured; constant time like <see cref="Verify"/>.</summary>
    public bool IsConfiguredHash(ReadOnlySpan<byte> hash)
    {
        var match = false;
        foreach (var expected in _hashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, expected);
        }

        return match;
    }

    private static byte[] Parse(string hex) =>
        IsValidHash(hex)
            ? Convert.FromHexString(hex)
            : throw new InvalidOperationException("TraceProf:ApiKeyHashes entries must be SHA-256 hashes of 64 hex digits.");
}
