using System.Text;

namespace TraceProf.Parsing;

/// <summary>
/// The name a person recognizes for a runtime method name (what pprof shows as <c>Function.name</c>, speedscope
/// and folded as the frame): the C# method the code was written as, without the parameter list. The runtime's
/// name stays the frame's system name. One function for every parser, so both paths name a frame alike.
/// </summary>
/// <remarks>
/// Rules, applied to <c>Namespace.Type+Nested.Method(arguments)</c> (the rule text lives in <c>docs/frames.md</c>):
/// <list type="bullet">
/// <item>the parameter list goes, and nested types are joined with <c>.</c> as C# writes them;</item>
/// <item>a generic type shows its arity, not its instantiation: <c>List`1[System.__Canon]</c> → <c>List&lt;T&gt;</c>,
/// <c>Dictionary`2[…]</c> → <c>Dictionary&lt;T1,T2&gt;</c> (every instantiation of one source method is one name);</item>
/// <item>an async or iterator state machine's <c>MoveNext</c> is its method: <c>Type+&lt;QuoteAsync&gt;d__6.MoveNext</c>
/// → <c>Type.QuoteAsync</c>;</item>
/// <item>a closure class (<c>&lt;&gt;c</c>, <c>&lt;&gt;c__DisplayClass5_0</c>) disappears; a lambda is its enclosing
/// method plus <c>.lambda</c> (<c>&lt;WithLambda&gt;b__8_0</c> → <c>WithLambda.lambda</c>), a local function its
/// enclosing method plus its own name (<c>&lt;Run&gt;g__Discount|9_0</c> → <c>Run.Discount</c>): the compiler's
/// counters change between builds, so they are left out;</item>
/// <item>an expression-tree method loses its counter: <c>dynamicClass.lambda_method5</c> → <c>dynamicClass.lambda_method</c>.</item>
/// </list>
/// Anything else (<c>..ctor</c>, <c>&lt;Main&gt;$</c>, explicit interface implementations) is kept as written.
/// </remarks>
internal static class FrameNames
{
    /// <summary>The display name of a runtime method name.</summary>
    /// <param name="systemName">The runtime's name, <c>Namespace.Type.Method(arguments)</c>.</param>
    /// <returns>The name for people; <paramref name="systemName"/> itself when there is nothing to change.</returns>
    public static string Display(string systemName)
    {
        ArgumentNullException.ThrowIfNull(systemName);
        var segments = Split(WithoutArguments(systemName));
        if (segments.Count == 0)
        {
            return systemName;
        }

        var result = new List<string>(segments.Count + 1);
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = StripInstantiation(segments[i]);
            var isLast = i == segments.Count - 1;
            if (IsClosureClass(segment))
            {
                continue;
            }

            if (TryStateMachine(segment, out var inner))
            {
                // <M>d__4 is M's state machine; <<M>b__0_1>d is the state machine of a lambda in M.
                AddMethodName(result, inner);
                if (i == segments.Count - 2 && segments[i + 1] == "MoveNext")
                {
                    break;
                }

                continue;
            }

            if (isLast)
            {
                AddMethodName(result, segment);
            }
            else
            {
                result.Add(WithArity(segment));
            }
        }

        return result.Count == 0 ? systemName : string.Join('.', result);
    }

    /// <summary>Whether the runtime name is a compiler-made async or iterator state machine's <c>MoveNext</c>.</summary>
    /// <param name="systemName">The runtime's name.</param>
    /// <returns>True for <c>…+&lt;M&gt;d__4.MoveNext(…)</c>.</returns>
    public static bool IsStateMachineMoveNext(string systemName)
    {
        ArgumentNullException.ThrowIfNull(systemName);
        var segments = Split(WithoutArguments(systemName));
        return segments.Count >= 2 && segments[^1] == "MoveNext" && TryStateMachine(StripInstantiation(segments[^2]), out _);
    }

    private static void AddMethodName(List<string> result, string method)
    {
        // <M>b__8_0 (lambda), <M>g__Local|9_0 (local function); M itself may be compiler-made again.
        if (method.StartsWith('<') && MatchingClose(method, 0) is var close and > 0 && close + 2 < method.Length && method[close + 2] == '_')
        {
            var enclosing = method[1..close];
            var tag = method[close + 1];
            if (tag is 'b' or 'g')
            {
                AddMethodName(result, enclosing);
                if (tag == 'b')
                {
                    result.Add("lambda");
                }
                else
                {
                    // <M>g__Local|9_0: the local function's name runs to the '|'.
                    var name = method[(close + 4)..];
                    var bar = name.IndexOf('|', StringComparison.Ordinal);
                    result.Add(bar >= 0 ? name[..bar] : name);
                }

                return;
            }
        }

        if (method.StartsWith("lambda_method", StringComparison.Ordinal) && method.Length > "lambda_method".Length && method.AsSpan("lambda_method".Length).IndexOfAnyExceptInRange('0', '9') < 0)
        {
            result.Add("lambda_method");
            return;
        }

        result.Add(method);
    }

    // <M>d__4, <M>d (a lambda's or local function's state machine), <<M>b__0_1>d.
    private static bool TryStateMachine(string segment, out string inner)
    {
        inner = "";
        if (!segment.StartsWith('<') || MatchingClose(segment, 0) is not (var close and > 1))
        {
            return false;
        }

        // A generic async method's state machine carries the method's type parameters: <M>d__4`1. A generic method
        // shows no arity, so it goes.
        var rest = segment.AsSpan(close + 1);
        if (rest.LastIndexOf('`') is var tick and > 0 && rest[(tick + 1)..] is { Length: > 0 } arity && arity.IndexOfAnyExceptInRange('0', '9') < 0)
        {
            rest = rest[..tick];
        }

        if (rest is "d" || (rest.StartsWith("d__") && rest[3..].IndexOfAnyExceptInRange('0', '9') < 0 && rest.Length > 3))
        {
            inner = segment[1..close];
            return true;
        }

        return false;
    }

    // <>c, <>c__DisplayClass5_0, and a generic method's <>c__12`1 / <>c__DisplayClass5_0`1: the classes lambdas and
    // their captured variables live in.
    private static bool IsClosureClass(string segment) =>
        segment == "<>c" || segment.StartsWith("<>c__", StringComparison.Ordinal);

    // List`1 → List<T>, Dictionary`2 → Dictionary<T1,T2>.
    private static string WithArity(string segment)
    {
        var tick = segment.LastIndexOf('`');
        if (tick <= 0 || !int.TryParse(segment.AsSpan(tick + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var arity) || arity <= 0)
        {
            return segment;
        }

        var name = new StringBuilder(segment, 0, tick, tick + 2 + (arity * 3));
        name.Append('<');
        if (arity == 1)
        {
            name.Append('T');
        }
        else
        {
            for (var i = 1; i <= arity; i++)
            {
                name.Append(i > 1 ? ",T" : "T").Append(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return name.Append('>').ToString();
    }

    // List`1[System.__Canon] → List`1: the instantiation is in the system name.
    private static string StripInstantiation(string segment)
    {
        var open = segment.IndexOf('[', StringComparison.Ordinal);
        return open > 0 && segment[^1] == ']' ? segment[..open] : segment;
    }

    private static string WithoutArguments(string name)
    {
        var depth = 0;
        for (var i = 0; i < name.Length; i++)
        {
            switch (name[i])
            {
                case '<' or '[':
                    depth++;
                    break;
                case '>' or ']':
                    depth = Math.Max(0, depth - 1);
                    break;
                case '(' when depth == 0:
                    return name[..i].TrimEnd();
            }
        }

        return name;
    }

    // Splits on '.' and '+' outside <…> and […]; ".ctor" and ".cctor" keep their dot.
    private static List<string> Split(string name)
    {
        var segments = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is '<' or '[')
            {
                depth++;
            }
            else if (c is '>' or ']')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (depth == 0 && (c == '+' || (c == '.' && i > start)))
            {
                segments.Add(name[start..i]);
                start = i + 1;
            }
        }

        if (start < name.Length)
        {
            segments.Add(name[start..]);
        }

        return segments;
    }

    private static int MatchingClose(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] == '<')
            {
                depth++;
            }
            else if (text[i] == '>' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }
}
