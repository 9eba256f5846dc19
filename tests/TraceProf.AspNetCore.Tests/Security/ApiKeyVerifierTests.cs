using System.Security.Cryptography;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Tests.Security;

public sealed class ApiKeyVerifierTests
{
    private static string HashOf(string key) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))).ToLowerInvariant();

    [Fact]
    public void Verify_AcceptsAnyConfiguredKey_AndNothingElse()
    {
        var verifier = new ApiKeyVerifier([HashOf("first-key"), HashOf("second-key")]);

        Assert.True(verifier.HasKeys);
        Assert.True(verifier.Verify("first-key"));
        Assert.True(verifier.Verify("second-key"));
        Assert.False(verifier.Verify("third-key"));
        Assert.False(verifier.Verify("First-key"));
        Assert.False(verifier.Verify(""));
    }

    [Fact]
    public void Verify_WithNoKeysConfigured_AcceptsNone()
    {
        var verifier = new ApiKeyVerifier([]);
        Assert.False(verifier.HasKeys);
        Assert.False(verifier.Verify("anything"));
    }

    [Fact]
    public void Hashes_AreReadInEitherLetterCase()
    {
        var verifier = new ApiKeyVerifier([HashOf("key").ToUpperInvariant()]);
        Assert.True(verifier.Verify("key"));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", true)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", false)]
    [InlineData("g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("the key itself, not its hash", false)]
    public void IsValidHash_Takes64HexDigitsOnly(string value, bool valid) => Assert.Equal(valid, ApiKeyVerifier.IsValidHash(value));

    [Fact]
    public void Constructor_ABadHash_FailsNamingTheSettingAndTheForm()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ApiKeyVerifier(["not-a-hash"]));
        Assert.Contains("TraceProf:ApiKeyHashes", error.Message, StringComparison.Ordinal);
        Assert.Contains("64 hex digits", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-hash", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsConfiguredHash_RecognisesAHashKeptByABrowserSession_UntilItIsRemoved()
    {
        var hash = Convert.FromHexString(HashOf("key"));
        Assert.True(new ApiKeyVerifier([HashOf("key")]).IsConfiguredHash(hash));
        Assert.False(new ApiKeyVerifier([HashOf("other")]).IsConfiguredHash(hash));
        Assert.False(new ApiKeyVerifier([]).IsConfiguredHash(hash));
    }

    [Fact]
    public void Verify_ABoundKey_SaysItsRole_AnUnboundKey_SaysNone()
    {
        var verifier = new ApiKeyVerifier([HashOf("free-key")], [new TraceProfApiKey { Hash = HashOf("sre-key"), Role = "sre:profile" }]);

        Assert.True(verifier.Verify("sre-key", out var bound));
        Assert.Equal("sre:profile", bound);
        Assert.True(verifier.Verify("free-key", out var unbound));
        Assert.Null(unbound);
        Assert.False(verifier.Verify("other", out var none));
        Assert.Null(none);
    }

    [Fact]
    public void AHashInBothLists_IsBound()
    {
        var verifier = new ApiKeyVerifier([HashOf("key")], [new TraceProfApiKey { Hash = HashOf("key").ToUpperInvariant(), Role = "readonly" }]);

        Assert.True(verifier.Verify("key", out var bound));
        Assert.Equal("readonly", bound);
    }

    [Fact]
    public void IsConfiguredHash_SaysTheBoundRoleToo()
    {
        var verifier = new ApiKeyVerifier([], [new TraceProfApiKey { Hash = HashOf("key"), Role = "admin" }]);

        Assert.True(verifier.HasKeys);
        Assert.True(verifier.IsConfiguredHash(Convert.FromHexString(HashOf("key")), out var bound));
        Assert.Equal("admin", bound);
    }

    [Fact]
    public void Constructor_ABoundKeyWithoutARoleOrWithABadHash_FailsNamingTheSetting()
    {
        var noRole = Assert.Throws<InvalidOperationException>(() => new ApiKeyVerifier([], [new TraceProfApiKey { Hash = HashOf("key") }]));
        var badHash = Assert.Throws<InvalidOperationException>(() => new ApiKeyVerifier([], [new TraceProfApiKey { Hash = "key", Role = "admin" }]));

        Assert.Contains("TraceProf:ApiKeys", noRole.Message, StringComparison.Ordinal);
        Assert.Contains("TraceProf:ApiKeys", badHash.Message, StringComparison.Ordinal);
        Assert.Contains("64 hex digits", badHash.Message, StringComparison.Ordinal);
    }
}

