using TraceProf.Capture;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Kinds.Cpu;

/// <summary>
/// Puts back the managed caller of a native leaf that the kernel's frame-pointer walk skips (docs/frames.md, "perf
/// sampler: the caller of a native leaf"): the sampler found return-address candidates on the leaf's stack
/// (<see cref="PerfEventNative.CallerCandidatesMarker"/>); the method table, known only when the samples are named,
/// decides which one is a return address into a method. The marker and candidates never reach a profile.
/// </summary>
internal static class NativeLeafCallers
{
    /// <summary>The stack to name: the leaf, the first candidate that returns into a method (if any), the rest of the chain.</summary>
    /// <param name="raw">A stack as the sampler delivered it.</param>
    /// <param name="methods">The methods of the capture.</param>
    /// <param name="buffer">Scratch space, grown as needed.</param>
    /// <param name="restored">Whether a caller was put back.</param>
    /// <returns>The stack, without marker and candidates.</returns>
    public static ReadOnlySpan<ulong> Splice(ReadOnlySpan<ulong> raw, MethodAddressTable methods, scoped ref ulong[] buffer, out bool restored)
    {
        restored = false;
        if (raw.Length < 2 || raw[1] - PerfEventNative.CallerCandidatesMarker - 1 >= PerfEventNative.MaxCallerCandidates)
        {
            return raw;
        }

        var count = (int)(raw[1] - PerfEventNative.CallerCandidatesMarker);
        if (raw.Length < 2 + count)
        {
            return raw[..1];
        }

        var rest = raw[(2 + count)..];
        var chosen = 0UL;
        if (!methods.TryResolve(raw[0], out ResolvedMethod _))
        {
            foreach (var candidate in raw.Slice(2, count))
            {
                if (ReturnsIntoMethod(candidate, methods) && (rest.IsEmpty || candidate != rest[0]))
                {
                    chosen = candidate;
                    break;
                }
            }
        }

        var length = 1 + (chosen != 0 ? 1 : 0) + rest.Length;
        if (buffer.Length < length)
        {
            buffer = new ulong[Math.Max(length, buffer.Length * 2)];
        }

        buffer[0] = raw[0];
        var at = 1;
        if (chosen != 0)
        {
            buffer[at++] = chosen;
            restored = true;
        }

        rest.CopyTo(buffer.AsSpan(at));
        return buffer.AsSpan(0, length);
    }

    /// <summary>
    /// Whether <paramref name="address"/> can be a return address into a method: one past a call in its code (the call
    /// is at <c>address - 1</c>), and not the start of a method (a code pointer kept on the stack, not a return address).
    /// </summary>
    private static bool ReturnsIntoMethod(ulong address, MethodAddressTable methods) =>
        methods.TryResolve(address - 1, out ResolvedMethod _)
        && !(methods.TryResolve(address, out ResolvedMethod at) && at.Start == address);
}
