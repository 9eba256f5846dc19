using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Block;

/// <summary>
/// The TraceLog fallback of the block kind, for a nettrace layout the streaming reader does not decode. TraceEvent
/// 3.2.8 has no WaitHandleWait events, so this gives the lock-contention half only, and its comment says so.
/// </summary>
internal static class BlockProfileParser
{
    public static Profile ParseContentionOnly(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var builder = new BlockProfileBuilder(reader.NewBuilder(BlockProfileBuilder.SampleTypes, BlockProfileBuilder.DefaultSampleIndex), labels);
        var waiting = new Dictionary<int, (int[] Stack, double StartMs, long StartQpc)>();
        var stack = new List<int>(64);
        var pool = new Dictionary<int, bool>();
        long starts = 0;
        var sessionEndMs = reader.Log.SessionEndTimeRelativeMSec;

        // By name only: the TraceLog path has no raw addresses to find the pool's worker loop in.
        bool InPool(int threadId)
        {
            if (!pool.TryGetValue(threadId, out var inPool))
            {
                inPool = BlockWaits.IsThreadPoolWorker(options.ThreadName?.Invoke(threadId)) == true;
                pool[threadId] = inPool;
            }

            return inPool;
        }

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
            if (waiting.Remove(data.ThreadID, out var wait))
            {
                var delay = data.DurationNs > 0 ? (long)data.DurationNs : (long)((data.TimeStampRelativeMSec - wait.StartMs) * 1_000_000);
                builder.AddWait(wait.Stack, data.ThreadID, wait.StartQpc, delay, BlockWaitSource.Lock, InPool(data.ThreadID));
            }
        };
        source.Process();

        foreach (var (threadId, wait) in waiting)
        {
            builder.AddWait(wait.Stack, threadId, wait.StartQpc, (long)((sessionEndMs - wait.StartMs) * 1_000_000), BlockWaitSource.Lock, InPool(threadId));
        }

        builder.Profile.AddComment(builder.CountsComment("TraceProf block profile (TraceLog fallback, lock contention only: TraceEvent 3.2.8 does not decode WaitHandleWait events)"));
        reader.AddUnresolvedComment(builder.Profile);
        return builder.Build();
    }
}
