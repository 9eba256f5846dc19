using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Tracing.EventPipe;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Cpu;

/// <summary>
/// Turns a capture with the sample profiler into a CPU profile with the columns samples, cpu and wall: samples
/// of threads running managed code count as CPU, every sample as wall time.
/// </summary>
internal static class CpuProfileParser
{
    public static Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var periodNs = (long)options.SamplingInterval.TotalNanoseconds;
        var builder = reader.NewBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex);
        builder.PeriodType = WellKnownSampleTypes.Cpu;
        builder.Period = periodNs;

        var stack = new List<int>(64);
        long events = 0;
        long[] managed = [1, periodNs, periodNs];
        long[] external = [1, 0, periodNs];

        var source = reader.Log.Events.GetSource();
        var sampler = new SampleProfilerTraceEventParser(source);
        sampler.ThreadSample += data =>
        {
            if ((++events & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            reader.ResolveStack(data, builder, stack);
            builder.Add(CollectionsMarshal.AsSpan(stack), data.Type == ClrThreadSampleType.Managed ? managed : external, labels.For(data.ThreadID, data.RawTimestamp()));
        };
        source.Process();

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf CPU profile: {events} sampler events, sampling interval {options.SamplingInterval.TotalMilliseconds} ms; cpu = samples of threads running managed code, wall = all samples."));
        reader.AddUnresolvedComment(builder);
        return builder.Build();
    }
}
