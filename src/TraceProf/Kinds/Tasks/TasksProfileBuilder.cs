using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Kinds.Heap;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Tasks;

/// <summary>
/// The tasks profile: one sample of <c>tasks/count</c> 1 per pending async chain, its stack the chain's async methods
/// (innermost as the leaf), labels <c>awaits</c> (what the innermost awaits, where known) and the span labels of the
/// request the chain belongs to, where it could be told.
/// </summary>
internal static class TasksProfileBuilder
{
    /// <summary>The sample type.</summary>
    public static readonly SampleType Tasks = new("tasks", "count");

    /// <summary>The label that says what the innermost method awaits.</summary>
    public const string AwaitsLabel = "awaits";

    /// <summary>Builds the profile.</summary>
    /// <param name="chains">The chains.</param>
    /// <param name="requests">The requests in flight, indexed by <see cref="AsyncChain.RequestMarker"/>.</param>
    /// <param name="stats">The heap snapshot's figures.</param>
    /// <param name="omitted">Chains over the bound, not in the profile.</param>
    /// <param name="requestsLinkable">Whether requests were tracked (else no chain can name its request).</param>
    /// <returns>The profile.</returns>
    public static Profile Build(IReadOnlyList<AsyncChain> chains, IReadOnlyList<InFlightRequest> requests, HeapSnapshotStats stats, int omitted, bool requestsLinkable)
    {
        ArgumentNullException.ThrowIfNull(chains);
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(stats);
        var builder = new ProfileBuilder([Tasks])
        {
            PeriodType = Tasks,
            Period = 1,
            StartTime = stats.StartedAt,
            Duration = stats.Elapsed,
        };
        var linked = 0;
        var labels = new List<ProfileLabel>(6);
        foreach (var chain in chains)
        {
            labels.Clear();
            if (chain.Awaits is { } awaits)
            {
                labels.Add(new ProfileLabel(AwaitsLabel, awaits));
            }

            if (chain.RequestMarker >= 0 && chain.RequestMarker < requests.Count)
            {
                linked++;
                var request = requests[chain.RequestMarker];
                labels.Add(new ProfileLabel(SpanLabels.TraceId, request.TraceId.ToHexString()));
                labels.Add(new ProfileLabel(SpanLabels.SpanId, request.SpanId.ToHexString()));
                labels.Add(new ProfileLabel(SpanLabels.HttpMethod, request.Request.Method));
                if (request.Request.Route is { } route)
                {
                    labels.Add(new ProfileLabel(SpanLabels.HttpRoute, route));
                }
            }

            var stack = new ProfileFrame[chain.Methods.Count];
            for (var i = 0; i < stack.Length; i++)
            {
                stack[i] = new ProfileFrame(chain.Methods[i], "") { SystemName = chain.StateMachines[i] + ".MoveNext()" };
            }

            builder.Add(stack, [1], [.. labels]);
        }

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"tasks profile: {chains.Count} pending async call chains from a heap snapshot (one induced blocking gen2 GC, {stats.GcPause.TotalMilliseconds:0} ms pause, {stats.Objects} objects); leaf = the innermost async method, label awaits = what it awaits"));
        builder.AddComment(requestsLinkable
            ? string.Create(CultureInfo.InvariantCulture, $"{linked} of {chains.Count} chains linked to an in-flight request through the activity in their execution context")
            : "requests were not tracked (the span timeline was not recording: the flight recorder is off and no capture ran), so no chain names its request");
        if (omitted > 0)
        {
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{omitted} more chains over the bound of {chains.Count} are not in the profile"));
        }

        if (!stats.Complete)
        {
            builder.AddComment("the heap snapshot was incomplete (objects or references lost): some chains may be cut or missing");
        }

        return builder.Build();
    }
}
