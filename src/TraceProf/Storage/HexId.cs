using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace TraceProf.Storage;

/// <summary>Shared checks for the hex ids used as keys and file names.</summary>
internal static class HexId
{
    public static bool IsLowerHex([NotNullWhen(true)] string? value, int length)
    {
        if (value is null || value.Length != length)
        {
            return false;
        }

        foreach (char c in value)
        {
            // Upper case is refused so that one id has one spelling (file names, SQL equality).
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsAllZeros(string value) => value.AsSpan().IndexOfAnyExcept('0') < 0;

    /// <summary>Describes a rejected value for an error message without echoing unbounded input.</summary>
    public static string Describe(string? value) => value switch
    {
        null => "null",
        { Length: > 64 } => string.Create(CultureInfo.InvariantCulture, $"{value.Length} characters"),
        _ => string.Create(CultureInfo.InvariantCulture, $"'{value}' ({value.Length} characters)"),
    };
}
