using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// One kind's samples of a trace from every stored snapshot that holds it, each sample once (an on-demand capture
/// and a flight-recorder cut of the same request overlap): what the trace view and the span table read.
/// </summary>
internal static class TraceProfiles
{
    /// <summary>A trace view reads at most this many snapshots of one kind; a trace is seldom in more.</summary>
    public const int MaxSnapshotsPerTrace = 50;

    /// <summary>The merged profile and what each snapshot gave it.</summary>
    /// <param name="Profile">The merged profile (labels <c>snapshot_id</c>, <c>service.name</c> added).</param>
    /// <param name="Contributions">Per snapshot read, in the store's order.</param>
    public sealed record Merged(Profile Profile, IReadOnlyList<MergeContribution> Contributions)
    {
        /// <summary>Gets the ids of the snapshots whose samples are in the result.</summary>
        public IEnumerable<string> Contributors => Contributions.Where(c => c.Kept > 0).Select(c => c.Source);
    }

    /// <summary>Loads and merges; null when no stored snapshot of the kind has a profile for the trace.</summary>
    /// <param name="store">The store.</param>
    /// <param name="traceId">The trace (32 hex).</param>
    /// <param name="kind">The capture kind's name.</param>
    /// <param name="spanId">Only this span's samples (16 hex), or null.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The merge, or null.</returns>
    public static async Task<Merged?> LoadAsync(ISnapshotStore store, string traceId, string kind, string? spanId, CancellationToken cancellationToken)
    {
        var rows = await store.ListAsync(new SnapshotQuery { TraceId = traceId, Kind = kind, Limit = MaxSnapshotsPerTrace }, cancellationToken).ConfigureAwait(false);

        // Oldest first: when two snapshots hold a bucket equally, the earlier one keeps it (stable across calls).
        var parts = new List<MergePart>();
        var damaged = new List<string>();
        foreach (var row in rows.OrderBy(r => r.StartedAt).ThenBy(r => r.Id, StringComparer.Ordinal))
        {
            Profile? profile;
            try
            {
                profile = await SnapshotEndpoints.ReadProfileAsync(store, row, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException)
            {
                // One damaged file must not take the whole trace view (or the UI's trace page) down with it.
                damaged.Add(row.Id);
                continue;
            }

            if (profile is not null)
            {
                parts.Add(new MergePart(
                    profile,
                    [new ProfileLabel("snapshot_id", row.Id), new ProfileLabel("service.name", row.ServiceName)],
                    row.Id,
                    row.ServiceName + "\n" + row.HostName));
            }
        }

        if (parts.Count == 0)
        {
            return null;
        }

        // One kind has one shape; a profile of another shape (written by another version) cannot be merged with it.
        var shape = parts[0].Profile.SampleTypes;
        parts.RemoveAll(p => !p.Profile.SampleTypes.SequenceEqual(shape));

        var traceLabel = new ProfileLabel(SpanLabels.TraceId, traceId);
        var spanLabel = spanId is null ? (ProfileLabel?)null : new ProfileLabel(SpanLabels.SpanId, spanId);
        var profileMerged = OverlapMerge.Merge(
            parts,
            s => s.Labels.Contains(traceLabel) && (spanLabel is null || s.Labels.Contains(spanLabel.Value)),
            contributions =>
            [
                string.Create(CultureInfo.InvariantCulture, $"TraceProf trace view: samples of trace {traceId}{(spanId is null ? "" : $", span {spanId}")} from {contributions.Count(c => c.Kept > 0)} {kind} snapshot(s): {string.Join(", ", contributions.Where(c => c.Kept > 0).Select(c => c.Source))}."),
                OverlapMerge.Describe(contributions) + (damaged.Count == 0 ? "" : $" Left out, not a readable pprof: {string.Join(", ", damaged)}."),
            ],
            out var used);
        return new Merged(profileMerged, used);
    }
}
