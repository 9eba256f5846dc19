using System.Buffers.Binary;

namespace TraceProf.Benchmarks;

using TraceProf.Parsing.Streaming;

/// <summary>
/// The code ranges of jitted and ready-to-run methods, from the runtime's method load and rundown events, and
/// the names of their modules. Filled during the pass, looked up after it: rundown comes at the end of a capture.
/// One entry per code start address (a method seen at load time shows up again in the rundown), and unloaded
/// code leaves, so a long-lived table follows the code that is alive, not every event ever seen.
/// Not thread-safe; a live recorder resolves against a <see cref="Freeze"/> copy.
/// </summary>
/// <summary>The method table as it was before issue 17 (Freeze copied it whole), kept to measure the cut against.</summary>
internal sealed class LegacyMethodAddressTable
{
    private readonly Dictionary<ulong, Method> _methods = [];
    private readonly Dictionary<ulong, string> _moduleNames = [];
    private Method[]? _sorted;

    /// <summary>Gets the number of method ranges.</summary>
    public int Count => _methods.Count;

    /// <summary>Gets the number of modules.</summary>
    public int ModuleCount => _moduleNames.Count;

    /// <summary>Adds a <c>MethodLoadVerbose</c> / <c>MethodDCStartVerbose</c> / <c>MethodDCEndVerbose</c> payload.</summary>
    public void AddMethod(ReadOnlySpan<byte> payload)
    {
        var moduleId = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        var start = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(payload[24..]);
        var offset = 36;
        var ns = NettracePayload.ReadUtf16(payload, ref offset);
        var name = NettracePayload.ReadUtf16(payload, ref offset);
        var signature = NettracePayload.ReadUtf16(payload, ref offset);

        // The name TraceLog shows: Namespace.Method(argument types), the arguments taken from the signature
        // ("instance int32  (value class System.ReadOnlySpan`1<wchar>)").
        var arguments = signature.IndexOf('(', StringComparison.Ordinal) is var open and >= 0 ? signature[open..] : "";
        var fullName = ns.Length > 0 ? string.Concat(ns, ".", name, arguments) : string.Concat(name, arguments);
        _methods[start] = new Method(start, size, moduleId, fullName);
        _sorted = null;
    }

    /// <summary>Removes the range of a <c>MethodUnloadVerbose</c> payload (collectible or dynamic code freed).</summary>
    public void RemoveMethod(ReadOnlySpan<byte> payload)
    {
        var start = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        if (_methods.Remove(start))
        {
            _sorted = null;
        }
    }

    /// <summary>A copy to resolve against while this table keeps changing on another thread.</summary>
    public LegacyMethodAddressTable Freeze()
    {
        var copy = new LegacyMethodAddressTable();
        foreach (var (start, method) in _methods)
        {
            copy._methods[start] = method;
        }

        foreach (var (id, name) in _moduleNames)
        {
            copy._moduleNames[id] = name;
        }

        return copy;
    }

    /// <summary>Adds a <c>ModuleLoad</c> / <c>ModuleDCStart</c> / <c>ModuleDCEnd</c> payload.</summary>
    public void AddModule(ReadOnlySpan<byte> payload)
    {
        var moduleId = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        var offset = 24;
        var ilPath = NettracePayload.ReadUtf16(payload, ref offset);
        var nativePath = NettracePayload.ReadUtf16(payload, ref offset);
        var path = ilPath.Length > 0 ? ilPath : nativePath;
        _moduleNames[moduleId] = Path.GetFileNameWithoutExtension(path);
    }

    /// <summary>The method whose code holds <paramref name="address"/>, or false.</summary>
    public bool TryResolve(ulong address, out string methodName, out string moduleName)
    {
        var sorted = _sorted ??= Sort();
        var low = 0;
        var high = sorted.Length - 1;
        var found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (sorted[mid].Start <= address)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        if (found >= 0 && address - sorted[found].Start < sorted[found].Size)
        {
            methodName = sorted[found].Name;
            moduleName = _moduleNames.GetValueOrDefault(sorted[found].ModuleId, "");
            return true;
        }

        methodName = "";
        moduleName = "";
        return false;
    }

    private Method[] Sort()
    {
        var sorted = _methods.Values.ToArray();
        Array.Sort(sorted, static (a, b) => a.Start.CompareTo(b.Start));
        return sorted;
    }

    private readonly record struct Method(ulong Start, uint Size, ulong ModuleId, string Name);
}
