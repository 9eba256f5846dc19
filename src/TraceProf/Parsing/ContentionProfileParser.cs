using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>
/// Turns a contention capture into a profile with the columns contentions and delay: one contention per
/// <c>ContentionStart</c>, at the waiting thread's stack, delayed by the matching <c>ContentionStop</c>'s duration.
/// </summary>
internal static class ContentionProfileParser
{
    public static Profile Parse(TraceLogReader reader, ParseOptions options, CancellationToken cancellationToken)
    {
        var builder = reader.NewBuilder(WellKnownSampleTypes.ContentionProfile, 1);
        builder.PeriodType = WellKnownSampleTypes.Contentions;
        builder.Period = 1;

        var labels = new LabelSet(options);
        var waiting = new Dictionary<int, (int[] Stack, double StartMs, long StartQpc)>();
        var stack = new List<int>(64);
        long starts = 0, unmatched = 0;
        var sessionEndMs = reader.Log.SessionEndTimeRelativeMSec;

        var source = reader.Log.Events.GetSource();
        source.Clr.ContentionStart += data =>
        {
            if ((++starts & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            reader.ResolveStack(data, builder, stack);
            waiting[data.ThreadID] = ([.. stack], data.TimeStampRelativeMSec, data.RawTimestamp());
        };
        source.Clr.ContentionStop += data =>
        {
            // A stop whose start came before the session began has no stack to charge; it is skipped.
            if (waiting.Remove(data.ThreadID, out var wait))
            {
                var delay = data.DurationNs > 0 ? (long)data.DurationNs : (long)((data.TimeStampRelativeMSec - wait.StartMs) * 1_000_000);
                builder.Add(wait.Stack, [1, delay], labels.For(data.ThreadID, wait.StartQpc));
            }
        };
        source.Process();

        // Threads still waiting when the session stopped waited at least until then.
        foreach (var (threadId, wait) in waiting)
        {
            unmatched++;
            builder.Add(wait.Stack, [1, (long)((sessionEndMs - wait.StartMs) * 1_000_000)], labels.For(threadId, wait.StartQpc));
        }

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf contention profile: {starts} ContentionStart events, {unmatched} still waiting at the end (delay counted to the end of the capture)."));
        reader.AddUnresolvedComment(builder);
        return builder.Build();
    }
}
