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
internal sealed class FrameResolver(MethodAddressTable methods, ProfileBuilder builder, bool rawFrames = false)
{
    private readonly Dictionary<ulong, FrameInterner.Frame> _frames = [];
    private readonly FrameInterner _interner = new(builder, rawFrames);

    /// <summary>Gets the number of distinct addresses that matched no method.</summary>
    public long UnresolvedAddresses { get; private set; }

    /// <summary>The frame ids of a raw stack, leaf first.</summary>
    public int[] Resolve(ReadOnlySpan<ulong> addresses)
    {
        _interner.Clear();
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
            return frame;
        }

        if (!methods.TryResolve(address, out var name, out var module))
        {
            name = string.Create(CultureInfo.InvariantCulture, $"?!0x{address:x}");
            UnresolvedAddresses++;
        }

        frame = _interner.Intern(name, module);
        _frames[address] = frame;
        return frame;
    }
}
