using System.Globalization;
using TraceProf.Profiles;

namespace TraceProf.Parsing.Streaming;

/// <summary>
/// Names raw stacks: each distinct address is looked up once, and frames are named, interned and folded by
/// <see cref="FrameInterner"/>, the same as on the TraceLog path (<see cref="TraceLogReader.ResolveStack"/>).
/// </summary>
/// <param name="methods">The code ranges to resolve against.</param>
/// <param name="builder">Where frames are interned.</param>
/// <param name="rawFrames">Keep every frame (<see cref="ParseOptions.RawFrames"/>).</param>
/// <param name="native">Names addresses no method covers by their mapped file (the perf_event sampler's native frames); null leaves them <c>?!0x…</c>.</param>
internal sealed class FrameResolver(MethodAddressTable methods, ProfileBuilder builder, bool rawFrames = false, NativeFrameNames? native = null)
{
    private readonly Dictionary<ulong, FrameInterner.Frame> _frames = [];
    private readonly FrameInterner _interner = new(builder, rawFrames);
    private readonly HashSet<ulong> _unresolved = [];

    /// <summary>Gets the number of distinct addresses that matched no method.</summary>
    public long UnresolvedAddresses { get; private set; }

    /// <summary>Gets the number of distinct addresses named as native code (<c>module!0x…</c>).</summary>
    public long NativeAddresses { get; private set; }

    /// <summary>Gets whether the stack last given to <see cref="Resolve"/> held an address that matched nothing.</summary>
    public bool LastHadUnresolved { get; private set; }

    /// <summary>The frame ids of a raw stack, leaf first.</summary>
    public int[] Resolve(ReadOnlySpan<ulong> addresses)
    {
        _interner.Clear();
        LastHadUnresolved = false;
        foreach (var address in addresses)
        {
            _interner.Push(FrameOf(address));
        }

        return [.. _interner.Stack];
    }

    private FrameInterner.Frame FrameOf(ulong address)
    {
        if (_frames.TryGetValue(address, out var frame))
        {
            LastHadUnresolved |= _unresolved.Contains(address);
            return frame;
        }

        if (!methods.TryResolve(address, out var name, out var module) && native is not null && native.Resolve(address, out name, out module))
        {
            NativeAddresses++;
        }
        else if (name.Length == 0)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"?!0x{address:x}");
            UnresolvedAddresses++;
            _unresolved.Add(address);
            LastHadUnresolved = true;
        }

        frame = _interner.Intern(name, module);
        _frames[address] = frame;
        return frame;
    }
}
