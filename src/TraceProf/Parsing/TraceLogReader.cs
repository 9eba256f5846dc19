using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>
/// Opens a nettrace through TraceEvent's <see cref="TraceLog"/> (which resolves stacks) and turns event stacks
/// into frame ids of a <see cref="ProfileBuilder"/>. Deletes its intermediate <c>.etlx</c> on dispose.
/// </summary>
internal sealed class TraceLogReader : IDisposable
{
    private readonly string _etlxPath;
    private readonly Dictionary<CodeAddressIndex, FrameInterner.Frame> _frames = [];
    private readonly bool _rawFrames;
    private FrameInterner _interner = null!;
    private ProfileBuilder? _builder;

    private TraceLogReader(string etlxPath, TraceLog log, bool rawFrames)
    {
        _etlxPath = etlxPath;
        Log = log;
        _rawFrames = rawFrames;
        _ofThisProcess = Streaming.ProfilingEventHandler.IsThisProcess(
            log.Processes.FirstOrDefault()?.ProcessID ?? -1,
            new DateTimeOffset(log.SessionStartTime.ToUniversalTime(), TimeSpan.Zero));
    }

    // Addresses no method covers are named from this process's native modules only when the capture is of it.
    private readonly bool _ofThisProcess;

    public TraceLog Log { get; }

    public long UnresolvedAddresses { get; private set; }

    /// <summary>Converts the capture and opens it.</summary>
    /// <param name="nettracePath">The capture.</param>
    /// <param name="tempDirectory">Where the <c>.etlx</c> goes.</param>
    /// <param name="rawFrames">Keep every frame (<see cref="ParseOptions.RawFrames"/>).</param>
    /// <returns>The reader.</returns>
    public static TraceLogReader Open(string nettracePath, string tempDirectory, bool rawFrames = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(nettracePath);
        Directory.CreateDirectory(tempDirectory);
        var etlxPath = Path.Combine(tempDirectory, Guid.NewGuid().ToString("N") + ".etlx");
        try
        {
            // TraceLog.OpenOrConvert expects ETW input; an EventPipe file has to go through this converter.
            TraceLog.CreateFromEventPipeDataFile(nettracePath, etlxPath, new TraceLogOptions { ContinueOnError = true });
            return new TraceLogReader(etlxPath, new TraceLog(etlxPath), rawFrames);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            File.Delete(etlxPath);
            throw new InvalidDataException($"'{Path.GetFileName(nettracePath)}' is not a readable nettrace capture: {ex.Message}", ex);
        }
    }

    public ProfileBuilder NewBuilder(IReadOnlyList<SampleType> sampleTypes, int defaultIndex) => new(sampleTypes, defaultIndex)
    {
        StartTime = new DateTimeOffset(Log.SessionStartTime.ToUniversalTime(), TimeSpan.Zero),
        Duration = Log.SessionDuration,
    };

    /// <summary>Fills <paramref name="stack"/> with the event's frames, leaf first, named and folded by <see cref="FrameInterner"/>.</summary>
    public void ResolveStack(TraceEvent data, ProfileBuilder builder, List<int> stack)
    {
        // The frame cache holds one builder's ids; a reader that moves on to another builder starts afresh.
        if (!ReferenceEquals(builder, _builder))
        {
            _builder = builder;
            _interner = new FrameInterner(builder, _rawFrames);
            _frames.Clear();
        }

        _interner.Clear();
        var leaf = true;
        for (var callStack = data.CallStack(); callStack is not null; callStack = callStack.Caller, leaf = false)
        {
            var address = callStack.CodeAddress;
            if (!_frames.TryGetValue(address.CodeAddressIndex, out var frame))
            {
                var name = address.FullMethodName;
                var module = address.ModuleName;
                if (string.IsNullOrEmpty(name) && _ofThisProcess && Native.NativeSymbols.ThisProcess.TryResolve(leaf ? address.Address : address.Address - 1, out var native))
                {
                    // As the streaming path names it (FrameResolver): module!symbol, a managed image's code in its module.
                    name = native.DisplayName;
                    module = native.ModuleName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? Path.GetFileNameWithoutExtension(native.ModuleName) : native.ModuleName;
                }
                else if (string.IsNullOrEmpty(name))
                {
                    name = string.Create(CultureInfo.InvariantCulture, $"{(string.IsNullOrEmpty(module) ? "?" : module)}!0x{address.Address:x}");
                    UnresolvedAddresses++;
                }

                frame = LineOf(address) is var (file, line) and { Item2: > 0 }
                    ? _interner.Intern(name, module ?? "", file, line)
                    : _interner.Intern(name, module ?? "");
                _frames[address.CodeAddressIndex] = frame;
            }

            _interner.Push(frame);
        }

        stack.Clear();
        stack.AddRange(_interner.Stack);
    }

    // TraceLog maps the address to IL from the capture's IL-to-native map events; the PDB gives the line.
    private static (string File, int Line) LineOf(TraceCodeAddress address)
    {
        var il = address.ILOffset;
        if (il < 0 || address.Method is not { } method || address.ModuleFile is not { FilePath: { Length: > 0 } path } module)
        {
            return ("", 0);
        }

        return Lines.SourceLines.Shared.TryFind(path, module.PdbSignature, method.MethodToken, il, out var file, out var line) ? (file, line) : ("", 0);
    }

    public void AddUnresolvedComment(ProfileBuilder builder) =>
        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{UnresolvedAddresses} distinct frame addresses could not be resolved to a method."));

    public void Dispose()
    {
        Log.Dispose();
        File.Delete(_etlxPath);
    }
}
