using System.Globalization;
using TraceProf.Profiles;

namespace TraceProf.Parsing.Streaming;

/// <summary>
/// Names raw stacks: each distinct address is looked up once, frames are interned in the builder, and the same
/// frames are folded and dropped as on the TraceLog path (<see cref="TraceLogReader.ResolveStack"/>).
/// </summary>
internal sealed class FrameResolver(MethodAddressTable methods, ProfileBuilder builder)
{
    private readonly Dictionary<ulong, int> _frameIds = [];
    private readonly HashSet<int> _eventEmitters = [];
    private readonly List<int> _stack = new(64);

    /// <summary>Gets the number of distinct addresses that matched no method.</summary>
    public long UnresolvedAddresses { get; private set; }

    /// <summary>The frame ids of a raw stack, leaf first.</summary>
    public int[] Resolve(ReadOnlySpan<ulong> addresses)
    {
        _stack.Clear();
        foreach (var address in addresses)
        {
            var frameId = FrameOf(address);
            if (frameId >= 0 && !(_stack.Count == 0 && _eventEmitters.Contains(frameId)))
            {
                _stack.Add(frameId);
            }
        }

        return [.. _stack];
    }

    private int FrameOf(ulong address)
    {
        if (_frameIds.TryGetValue(address, out var frameId))
        {
            return frameId;
        }

        if (!methods.TryResolve(address, out var name, out var module))
        {
            name = string.Create(CultureInfo.InvariantCulture, $"?!0x{address:x}");
            UnresolvedAddresses++;
        }

        frameId = FrameRules.IsSafePointHelper(name) ? -1 : builder.InternFrame(new ProfileFrame(name, module));
        _frameIds[address] = frameId;
        if (FrameRules.IsEventRaiser(name))
        {
            _eventEmitters.Add(frameId);
        }

        return frameId;
    }
}
