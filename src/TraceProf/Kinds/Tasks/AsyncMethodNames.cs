using TraceProf.Parsing;

namespace TraceProf.Kinds.Tasks;

/// <summary>
/// Names in a heap snapshot that matter to async chains (type names in <see cref="Heap.HeapTypeNames.Display"/>'s C#
/// form): which types are state machine boxes and the method each one runs, which are things a method can await and
/// how people call them.
/// </summary>
internal static class AsyncMethodNames
{
    private const string BoxMarker = "StateMachineBox<";

    /// <summary>
    /// Whether a type is a pending async method's box (<c>AsyncTaskMethodBuilder&lt;T&gt;.AsyncStateMachineBox&lt;T,
    /// TStateMachine&gt;</c>, its debugger variant, or a pooling <c>ValueTask</c> builder's <c>StateMachineBox</c>), and
    /// its state machine type (the last generic argument).
    /// </summary>
    public static bool TryBoxStateMachine(string typeName, out string stateMachine)
    {
        stateMachine = "";
        var at = typeName.LastIndexOf(BoxMarker, StringComparison.Ordinal);
        // The runtime names a nested type without its declaring type: "AsyncStateMachineBox<VoidTaskResult, Ns.C+<M>d__4>".
        if (at < 0 || (at > 0 && typeName[at - 1] is not ('+' or '.') && !typeName.AsSpan(0, at).EndsWith("Async", StringComparison.Ordinal) && !typeName.AsSpan(0, at).EndsWith("Debug", StringComparison.Ordinal)))
        {
            return false;
        }

        var start = at + BoxMarker.Length;
        var depth = 0;
        var lastArgument = start;
        for (var i = start; i < typeName.Length; i++)
        {
            var c = typeName[i];
            if (c == '<')
            {
                depth++;
            }
            else if (c == '>')
            {
                if (depth == 0)
                {
                    stateMachine = typeName[lastArgument..i].Trim();
                    return stateMachine.Length > 0;
                }

                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                lastArgument = i + 1;
            }
        }

        return false;
    }

    /// <summary>The async method a state machine type runs, by the frame-name rules (<c>Shop.Orders+&lt;CheckoutAsync&gt;d__4</c> → <c>Shop.Orders.CheckoutAsync</c>).</summary>
    public static string MethodOf(string stateMachine)
    {
        // A generic method's state machine is generic (<M>d__3<System.String>): every instantiation is one method.
        var marker = stateMachine.LastIndexOf(">d", StringComparison.Ordinal);
        if (marker > 0)
        {
            var end = marker + 2;
            if (end + 1 < stateMachine.Length && stateMachine[end] == '_' && stateMachine[end + 1] == '_')
            {
                end += 2;
                while (end < stateMachine.Length && char.IsAsciiDigit(stateMachine[end]))
                {
                    end++;
                }
            }

            stateMachine = stateMachine[..end];
        }

        return FrameNames.Display(stateMachine + ".MoveNext()");
    }

    /// <summary>Whether a type is a compiler-made state machine class (a Debug build's, kept apart from its box).</summary>
    public static bool IsStateMachineType(string typeName)
    {
        // The runtime names a nested type by itself ("<CheckoutAsync>d__4"), a box's argument by its full name.
        var last = typeName[(typeName.LastIndexOf('+') + 1)..];
        if (!last.StartsWith('<'))
        {
            return false;
        }

        var close = last.LastIndexOf(">d", StringComparison.Ordinal);
        return close > 0 && (close + 2 == last.Length || last.AsSpan(close + 2).StartsWith("__", StringComparison.Ordinal));
    }

    /// <summary>What a method can await, named for people; null for a type that is not one.</summary>
    public static string? AwaitableName(string typeName)
    {
        // Nested runtime types come by their own name ("DelayPromiseWithCancellation", "TaskNode"), so the
        // distinctive ones are matched by it.
        if (Nested(typeName, "DelayPromise") || Nested(typeName, "DelayPromiseWithCancellation"))
        {
            return "Task.Delay";
        }

        if (Nested(typeName, "WhenAllPromise"))
        {
            return "Task.WhenAll";
        }

        if (Nested(typeName, "WhenAnyPromise") || Nested(typeName, "TwoTaskWhenAnyPromise"))
        {
            return "Task.WhenAny";
        }

        if (Nested(typeName, "TaskNode"))
        {
            return "SemaphoreSlim.WaitAsync";
        }

        if (Nested(typeName, "AwaitableSocketAsyncEventArgs"))
        {
            return "socket";
        }

        if (typeName is "System.IO.Pipelines.Pipe" || typeName.StartsWith("System.IO.Pipelines.Pipe+", StringComparison.Ordinal))
        {
            return "pipe (System.IO.Pipelines)";
        }

        if (typeName.StartsWith("System.Threading.Channels.AsyncOperation", StringComparison.Ordinal))
        {
            return "channel";
        }

        if (typeName is "System.Threading.Tasks.Task" || typeName.StartsWith("System.Threading.Tasks.Task<", StringComparison.Ordinal))
        {
            return "Task";
        }

        // Other tasks made by the runtime or a library (ContinueWith's, a promise) are named by their type.
        if (typeName.StartsWith("System.Threading.Tasks.", StringComparison.Ordinal) && typeName.Contains("Task", StringComparison.Ordinal)
            && !typeName.Contains("Scheduler", StringComparison.Ordinal) && !typeName.Contains("Factory", StringComparison.Ordinal)
            && !typeName.Contains("Continuation", StringComparison.Ordinal) && !typeName.Contains("CompletionSource", StringComparison.Ordinal))
        {
            return typeName;
        }

        return typeName.Contains("ValueTaskSource", StringComparison.Ordinal) ? typeName : null;
    }

    // "Name", "Name<…>", "Outer+Name" or "Outer+Name<…>".
    private static bool Nested(string typeName, string name)
    {
        int at;
        if (typeName.StartsWith(name, StringComparison.Ordinal))
        {
            at = 0;
        }
        else
        {
            at = typeName.IndexOf("+" + name, StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }

            at++;
        }

        var end = at + name.Length;
        return end == typeName.Length || typeName[end] == '<';
    }
}
