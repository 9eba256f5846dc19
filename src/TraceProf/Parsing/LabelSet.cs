using System.Globalization;
using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>The labels of one event: <c>thread_id</c>, optional extra per-event labels, then the options' labels.</summary>
internal sealed class LabelSet
{
    private readonly Dictionary<int, string> _threadIds = [];
    private readonly ProfileLabel[] _common;
    private readonly List<ProfileLabel> _buffer = [];

    public LabelSet(ParseOptions options)
    {
        _common = [.. options.ExtraLabels];
    }

    public ProfileLabel[] For(int threadId, params ReadOnlySpan<ProfileLabel> extra)
    {
        if (!_threadIds.TryGetValue(threadId, out var id))
        {
            id = threadId.ToString(CultureInfo.InvariantCulture);
            _threadIds[threadId] = id;
        }

        _buffer.Clear();
        _buffer.Add(new ProfileLabel("thread_id", id));
        foreach (var label in extra)
        {
            _buffer.Add(label);
        }

        _buffer.AddRange(_common);
        return [.. _buffer];
    }
}
