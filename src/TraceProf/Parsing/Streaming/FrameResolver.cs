using System.Globalization;
using TraceProf.Parsing.Lines;
using TraceProf.Parsing.Native;
using TraceProf.Profiles;

namespace TraceProf.Parsing.Streaming;

/// <summary>
/// Names raw stacks: each distinct address is looked up once, and frames are named, interned and folded by
/// <see cref="FrameInterner"/>, the same as on the TraceLog path (<see cref="TraceLogReader.ResolveStack"/>). A managed
/// frame gets its source line where the method's IL-to-native map and its module's PDB give one
/// (<see cref="SourceLines"/>); an address no method covers is named from this process's native modules
/// (<see cref="NativeSymbols"/>) when the capture is of this process (<see cref="MethodAddressTable.OfThisProcess"/>).
/// </summary>
/// <param name="methods">The code ranges to resolve against.</param>
/// <param name="builder">Where frames are interned.</param>
/// <param name="rawFrames">Keep every frame (<see cref="ParseOptions.RawFrames"/>).</param>
/// <param name="native">Names addresses no method covers (the perf_event sampler's native frames) from the mappings read when its samples are named; null: native code of this process is named by <see cref="NativeSymbols"/> when the capture is of this process.</param>
internal sealed class FrameResolver(MethodAddressTable methods, ProfileBuilder builder, bool rawFrames = false, NativeFrameNames? native = null)
{
    private readonly Dictionary<ulong, FrameInterner.Frame> _frames = [];
    private readonly FrameInterner _interner = new(builder, rawFrames);
    private readonly HashSet<ulong> _unresolved = [];

    /// <summary>Gets the number of distinct addresses that matched no method and no native module.</summary>
    public long UnresolvedAddresses { get; private set; }

    /// <summary>Gets the number of distinct addresses named from native modules.</summary>
    public long NativeAddresses { get; private set; }

    /// <summary>Gets the number of distinct addresses (among <see cref="NativeAddresses"/>) named as managed methods from a ready-to-run image's tables.</summary>
    public long ReadyToRunAddresses { get; private set; }

    /// <summary>Gets the number of distinct managed addresses given a source line.</summary>
    public long LineAddresses { get; private set; }

    /// <summary>Gets whether the stack last given to <see cref="Resolve"/> held an address that matched nothing.</summary>
    public bool LastHadUnresolved { get; private set; }

    /// <summary>The frame ids of a raw stack, leaf first.</summary>
    public int[] Resolve(ReadOnlySpan<ulong> addresses)
    {
        _interner.Clear();
        LastHadUnresolved = false;
        for (var i = 0; i < addresses.Length; i++)
        {
            // Every frame but the leaf is a return address, one past its call: the call is what its line is.
            _interner.Push(FrameOf(i == 0 || addresses[i] == 0 ? addresses[i] : addresses[i] - 1));
        }

        return [.. _interner.Stack];
    }

    /// <summary>The comment that says how many addresses were named how.</summary>
    public string Comment() => string.Create(CultureInfo.InvariantCulture,
        $"{UnresolvedAddresses} distinct frame addresses could not be resolved to a method; {NativeAddresses} were named from native modules ({ReadyToRunAddresses} of them as methods from ready-to-run images), {LineAddresses} given a source line.");

    private FrameInterner.Frame FrameOf(ulong address)
    {
        if (_frames.TryGetValue(address, out var frame))
        {
            LastHadUnresolved |= _unresolved.Contains(address);
            return frame;
        }

        if (methods.TryResolve(address, out ResolvedMethod method))
        {
            var il = method.ILOffsetAt((uint)(address - method.Start));
            if (il >= 0 && SourceLines.Shared.TryFind(method.ModulePath, method.PdbId, method.Token, il, out var file, out var line))
            {
                LineAddresses++;
                frame = _interner.Intern(method.Name, method.Module, file, line);
            }
            else
            {
                frame = _interner.Intern(method.Name, method.Module);
            }
        }
        else if (native is not null && native.Resolve(address, out var nativeName, out var nativeModule))
        {
            // The perf sampler's native frames, named by NativeFrameNames (module + ELF symbol).
            NativeAddresses++;
            frame = _interner.Intern(nativeName, nativeModule);
        }
        else if (methods.OfThisProcess && NativeSymbols.ThisProcess.TryResolve(address, out var symbol))
        {
            NativeAddresses++;

            // Code in a managed module's mapped image that no method event named (ready-to-run P/Invoke stubs, named
            // from the image's tables where they cover it) joins the module's mapping: the module is named as its
            // managed frames name it.
            if (symbol.ReadyToRun)
            {
                ReadyToRunAddresses++;
            }

            frame = _interner.Intern(symbol.DisplayName, symbol.ManagedModule);
        }
        else
        {
            UnresolvedAddresses++;
            _unresolved.Add(address);
            LastHadUnresolved = true;
            frame = _interner.Intern(string.Create(CultureInfo.InvariantCulture, $"?!0x{address:x}"), "");
        }

        _frames[address] = frame;
        return frame;
    }
}
