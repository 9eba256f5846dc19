using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Tracing.EventPipe;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Threads;

/// <summary>
/// Turns a very short sampler capture into the stacks of all managed threads: one sample per thread (its first
/// tick), labelled <c>thread_id</c>, <c>thread_name</c> and <c>thread_state</c>.
/// </summary>
internal static class ThreadStacksParser
{
    public static Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var builder = reader.NewBuilder(WellKnownSampleTypes.ThreadsProfile, 0);
        builder.PeriodType = WellKnownSampleTypes.Threads;
        builder.Period = 1;

        var seen = new HashSet<int>();
        var stack = new List<int>(64);
        var source = reader.Log.Events.GetSource();
        var sampler = new SampleProfilerTraceEventParser(source);
        sampler.ThreadSample += data =>
        {
            if (!seen.Add(data.ThreadID))
            {
                return;
            }

            cancellationToken.ThrowIfCancellationRequested();
            reader.ResolveStack(data, builder, stack);
            var name = options.ThreadName?.Invoke(data.ThreadID) ?? "";
            var state = data.Type == ClrThreadSampleType.Managed ? "managed" : "external";
            builder.Add(CollectionsMarshal.AsSpan(stack), [1], labels.For(data.ThreadID, data.RawTimestamp(), new ProfileLabel("thread_name", name), new ProfileLabel("thread_state", state)));
        };
        source.Process();

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf thread stacks: {seen.Count} managed threads, each at its first sampler tick; thread_state managed = running managed code, external = in native code or blocked."));
        reader.AddUnresolvedComment(builder);
        return builder.Build();
    }
}
