using System.Text;

namespace TraceProf.Kinds.Heap;

/// <summary>Type names as people read them in a retention path.</summary>
/// <remarks>
/// The runtime's BulkType names use reflection's format: <c>System.Collections.Generic.List`1[Shop.Order]</c>,
/// nested generic types without their arity (<c>Entry[System.String,Shop.Order]</c>), arrays as
/// <c>Shop.Order[]</c> or <c>System.Int32[,]</c>. A path reads better in C#'s form:
/// <c>System.Collections.Generic.List&lt;Shop.Order&gt;</c>, <c>Entry&lt;System.String, Shop.Order&gt;</c>.
/// </remarks>
internal static class HeapTypeNames
{
    /// <summary>The runtime's name of a type in C#'s form.</summary>
    public static string Display(string runtimeName)
    {
        if (runtimeName.IndexOfAny(['[', '`']) < 0)
        {
            return runtimeName;
        }

        var builder = new StringBuilder(runtimeName.Length);
        var position = 0;
        Append(runtimeName, ref position, builder, stopAt: null);
        return builder.ToString();
    }

    /// <summary><c>System.Collections.Generic.List`1</c> → <c>System.Collections.Generic.List</c>.</summary>
    public static string WithoutArity(string name)
    {
        var tick = name.LastIndexOf('`');
        return tick > 0 && tick > name.LastIndexOf('.') && IsDigits(name.AsSpan(tick + 1)) ? name[..tick] : name;
    }

    /// <summary>Whether a name already spells its generic arguments or is an array.</summary>
    public static bool HasArgumentsOrIsArray(string displayName) =>
        displayName.Contains('<', StringComparison.Ordinal) || displayName.EndsWith(']');

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return s.Length > 0;
    }

    // Copies one type name from name[position..], turning `N[args] and [args] into <args>, until a character in
    // stopAt (',' or ']' of an enclosing argument list) at depth 0.
    private static void Append(string name, ref int position, StringBuilder builder, string? stopAt)
    {
        while (position < name.Length)
        {
            var c = name[position];
            if (stopAt is not null && stopAt.Contains(c, StringComparison.Ordinal))
            {
                return;
            }

            if (c == '`' && position + 1 < name.Length && char.IsAsciiDigit(name[position + 1]))
            {
                position++;
                while (position < name.Length && char.IsAsciiDigit(name[position]))
                {
                    position++;
                }

                continue;
            }

            if (c != '[')
            {
                builder.Append(c);
                position++;
                continue;
            }

            // "[]", "[,]", "[*]": an array's rank, kept as it is.
            var next = position + 1 < name.Length ? name[position + 1] : ']';
            if (next is ']' or ',' or '*')
            {
                var end = name.IndexOf(']', position);
                end = end < 0 ? name.Length - 1 : end;
                builder.Append(name, position, end - position + 1);
                position = end + 1;
                continue;
            }

            // Generic arguments: [A,B] or, assembly-qualified, [[A, Asm],[B, Asm]].
            position++;
            builder.Append('<');
            var first = true;
            while (position < name.Length && name[position] != ']')
            {
                if (!first)
                {
                    builder.Append(", ");
                }

                first = false;
                if (name[position] == '[')
                {
                    position++;
                    Append(name, ref position, builder, ",]");
                    // Skip the assembly qualifier up to this argument's closing bracket.
                    var depth = 0;
                    while (position < name.Length && !(name[position] == ']' && depth == 0))
                    {
                        depth += name[position] == '[' ? 1 : name[position] == ']' ? -1 : 0;
                        position++;
                    }

                    position++;
                }
                else
                {
                    Append(name, ref position, builder, ",]");
                }

                if (position < name.Length && name[position] == ',')
                {
                    position++;
                }
            }

            position++;
            builder.Append('>');
        }
    }
}
