using System.Diagnostics.CodeAnalysis;

namespace TraceProf.Storage;

/// <summary>Creates and checks snapshot ids: 32 lower-case hex digits, a version-7 GUID in "N" form.</summary>
/// <remarks>
/// A snapshot id becomes part of a file name, so anything that is not exactly 32 lower-case hex digits is
/// refused before it reaches the file system or SQL.
/// </remarks>
internal static class SnapshotIds
{
    /// <summary>The length of a snapshot id.</summary>
    public const int Length = 32;

    /// <summary>Creates a new id; ids created later sort after earlier ones (to the millisecond).</summary>
    /// <param name="timeProvider">The clock whose time the id embeds.</param>
    /// <returns>32 lower-case hex digits.</returns>
    public static string NewId(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Guid.CreateVersion7(timeProvider.GetUtcNow()).ToString("N");
    }

    /// <summary>Whether <paramref name="id"/> is exactly 32 lower-case hex digits.</summary>
    /// <param name="id">The text to check.</param>
    /// <returns>True when it is a well-formed snapshot id.</returns>
    public static bool IsValid([NotNullWhen(true)] string? id) => HexId.IsLowerHex(id, Length);

    /// <summary>Throws unless <paramref name="id"/> is a well-formed snapshot id.</summary>
    /// <param name="id">The text to check.</param>
    /// <param name="paramName">The name of the caller's parameter.</param>
    /// <exception cref="ArgumentException">The id is null or not 32 lower-case hex digits.</exception>
    public static void ThrowIfInvalid([NotNull] string? id, string paramName)
    {
        if (!IsValid(id))
        {
            throw new ArgumentException(
                $"A snapshot id must be 32 lower-case hex digits; got {HexId.Describe(id)}.", paramName);
        }
    }
}
