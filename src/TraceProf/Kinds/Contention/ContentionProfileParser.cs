using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Contention;

/// <summary>
/// Feeds a contention capture file to <see cref="ContentionProfileBuilder"/>: one wait per <c>ContentionStart</c>,
/// at the waiting thread's stack, delayed by the matching <c>ContentionStop</c>'s duration.
/// </summary>
internal static class ContentionProfileParser
{
    public static Profile Parse(TraceLogReader reader, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var builder = new ContentionProfileBuilder(reader.NewBuilder(ContentionProfileBuilder.SampleTypes, ContentionProfileBuilder.DefaultSampleIndex), labels);
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

            reader.ResolveStack(data, builder.Profile, stack);
            waiting[data.ThreadID] = ([.. stack], data.TimeStampRelativeMSec, data.RawTimestamp());
        };
        source.Clr.ContentionStop += data =>
        {
            // A stop whose start came before the session began has no stack to charge; it is skipped.
            if (waiting.Remove(data.ThreadID, out var wait))
            {
                var delay = data.DurationNs > 0 ? (long)data.DurationNs : (long)((data.TimeStampRelativeMSec - wait.StartMs) * 1_000_000);
                builder.AddWait(wait.Stack, data.ThreadID, wait.StartQpc, delay);
            }
        };
        source.Process();

        // Threads still waiting when the session stopped waited at least until then.
        foreach (var (threadId, wait) in waiting)
        {
            unmatched++;
            builder.AddWait(wait.Stack, threadId, wait.StartQpc, (long)((sessionEndMs - wait.StartMs) * 1_000_000));
        }

        builder.Profile.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf contention profile: {starts} ContentionStart events, {unmatched} still waiting at the end (delay counted to the end of the capture)."));
        reader.AddUnresolvedComment(builder.Profile);
        return builder.Build();
    }
}
