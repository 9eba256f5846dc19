using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>
/// The labels of one event: <c>thread_id</c>, the span the thread worked for at that moment (from the
/// <see cref="SpanTimeline"/>), per-event labels, then the options' labels.
/// </summary>
internal sealed class LabelSet
{
    private readonly Dictionary<int, string> _threadIds = [];
    private readonly ProfileLabel[] _common;
    private readonly SpanTimeline? _timeline;
    private readonly List<ProfileLabel> _buffer = [];

    public LabelSet(ParseOptions options)
    {
        _common = [.. options.ExtraLabels];
        _timeline = options.Timeline;
    }

    /// <summary>Gets how many events were joined to a span.</summary>
    public long Attributed { get; private set; }

    public ProfileLabel[] For(int threadId, long timestampQpc, params ReadOnlySpan<ProfileLabel> extra)
    {
        if (!_threadIds.TryGetValue(threadId, out var id))
        {
            id = threadId.ToString(CultureInfo.InvariantCulture);
            _threadIds[threadId] = id;
        }

        _buffer.Clear();
        _buffer.Add(new ProfileLabel("thread_id", id));
        if (_timeline?.LabelsAt(threadId, timestampQpc) is { } span)
        {
            _buffer.AddRange(span);
            Attributed++;
        }
        foreach (var label in extra)
        {
            _buffer.Add(label);
        }

        _buffer.AddRange(_common);
        return [.. _buffer];
    }
}
