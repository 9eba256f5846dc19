using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.EventPipe;
using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>
/// Turns a CPU capture (<c>.nettrace</c> with the sample profiler) into a <see cref="Profile"/> with the columns
/// samples, cpu and wall. Uses TraceEvent's <see cref="TraceLog"/> to resolve stacks.
/// </summary>
public static class CpuProfileParser
{
    /// <summary>The placeholder module name of frames TraceEvent could not place in any module.</summary>
    public const string UnknownModule = "?";

    /// <summary>Parses a capture.</summary>
    /// <param name="nettracePath">The capture.</param>
    /// <param name="options">Labels, period and temp folder.</param>
    /// <param name="cancellationToken">Stops parsing.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    public static Profile Parse(string nettracePath, CpuParseOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nettracePath);
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.TempDirectory);
        var etlxPath = Path.Combine(options.TempDirectory, Guid.NewGuid().ToString("N") + ".etlx");
        try
        {
            try
            {
                // TraceLog.OpenOrConvert expects ETW input; an EventPipe file has to go through this converter.
                TraceLog.CreateFromEventPipeDataFile(nettracePath, etlxPath, new TraceLogOptions { ContinueOnError = true });
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                throw new InvalidDataException($"'{Path.GetFileName(nettracePath)}' is not a readable nettrace capture: {ex.Message}", ex);
            }

            cancellationToken.ThrowIfCancellationRequested();
            using var log = new TraceLog(etlxPath);
            return Build(log, options, cancellationToken);
        }
        finally
        {
            File.Delete(etlxPath);
        }
    }

    private static Profile Build(TraceLog log, CpuParseOptions options, CancellationToken cancellationToken)
    {
        var periodNs = (long)options.SamplingInterval.TotalNanoseconds;
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex)
        {
            PeriodType = WellKnownSampleTypes.Cpu,
            Period = periodNs,
            StartTime = new DateTimeOffset(log.SessionStartTime.ToUniversalTime(), TimeSpan.Zero),
            Duration = log.SessionDuration,
        };

        var frameIds = new Dictionary<CodeAddressIndex, int>();
        var labels = new ProfileLabel[options.ExtraLabels.Count + 1];
        for (var i = 0; i < options.ExtraLabels.Count; i++)
        {
            labels[i + 1] = options.ExtraLabels[i];
        }

        var threadLabels = new Dictionary<int, string>();
        var stack = new List<int>(64);
        long events = 0, frames = 0, unresolved = 0;
        long[] managed = [1, periodNs, periodNs];
        long[] external = [1, 0, periodNs];

        var source = log.Events.GetSource();
        var sampler = new SampleProfilerTraceEventParser(source);
        sampler.ThreadSample += data =>
        {
            if ((++events & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            stack.Clear();
            for (var callStack = data.CallStack(); callStack is not null; callStack = callStack.Caller)
            {
                var address = callStack.CodeAddress;
                if (!frameIds.TryGetValue(address.CodeAddressIndex, out var frameId))
                {
                    var name = address.FullMethodName;
                    var module = address.ModuleName;
                    if (string.IsNullOrEmpty(name))
                    {
                        name = string.Create(CultureInfo.InvariantCulture, $"{(string.IsNullOrEmpty(module) ? UnknownModule : module)}!0x{address.Address:x}");
                        unresolved++;
                    }

                    frameId = IsSafePointHelper(name) ? -1 : builder.InternFrame(new ProfileFrame(name, module ?? ""));
                    frameIds[address.CodeAddressIndex] = frameId;
                }

                // Samples land at GC safe points; the poll helper is where the thread was stopped, not where it spent
                // time, so it is folded into its caller.
                if (frameId >= 0)
                {
                    stack.Add(frameId);
                }
            }

            frames += stack.Count;
            if (!threadLabels.TryGetValue(data.ThreadID, out var thread))
            {
                thread = data.ThreadID.ToString(CultureInfo.InvariantCulture);
                threadLabels[data.ThreadID] = thread;
            }

            labels[0] = new ProfileLabel("thread_id", thread);
            builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack), data.Type == ClrThreadSampleType.Managed ? managed : external, labels);
        };
        source.Process();

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf CPU profile: {events} sampler events, sampling interval {options.SamplingInterval.TotalMilliseconds} ms; cpu = samples of threads running managed code, wall = all samples."));
        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{unresolved} distinct frame addresses could not be resolved to a method."));
        if (events == 0)
        {
            builder.AddComment("The capture holds no sampler events.");
        }

        return builder.Build();
    }

    private static bool IsSafePointHelper(string name) => name.Contains("<PollGC>g__PollGCWorker", StringComparison.Ordinal);
}
