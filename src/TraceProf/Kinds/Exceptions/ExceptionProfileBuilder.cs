using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Attribution;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Exceptions;

/// <summary>
/// The exceptions kind's builder: one sample per thrown exception with the column exceptions/count; the leaf frame
/// is the exception's type (also the <c>exception_type</c> label) and its callers are the stack it was thrown from,
/// so <c>go tool pprof -top</c> ranks types and <c>-peek</c> shows who throws them. Messages only when asked for.
/// </summary>
internal sealed class ExceptionProfileBuilder
{
    /// <summary>The most characters of a message kept in the <c>exception_message</c> label.</summary>
    public const int MaxMessageLength = 128;

    private static readonly SampleType Exceptions = new("exceptions", "count");

    private readonly ProfileBuilder _builder;
    private readonly SampleAttributor _labels;
    private readonly bool _messages;
    private readonly Dictionary<string, (int Frame, ProfileLabel Label)> _types = new(StringComparer.Ordinal);
    private readonly List<int> _stack = new(64);
    private readonly long[] _count = [1];

    /// <summary>Creates a builder over a profile builder whose frames the feed interns.</summary>
    /// <param name="builder">A builder made with <see cref="SampleTypes"/>.</param>
    /// <param name="labels">The attribution stage.</param>
    /// <param name="messages">Whether to label each exception with its (truncated) message.</param>
    public ExceptionProfileBuilder(ProfileBuilder builder, SampleAttributor labels, bool messages)
    {
        _builder = builder;
        _labels = labels;
        _messages = messages;
        builder.PeriodType = Exceptions;
        builder.Period = 1;
    }

    /// <summary>The sample types of the kind's profile: exceptions/count.</summary>
    public static IReadOnlyList<SampleType> SampleTypes { get; } = [Exceptions];

    /// <summary>Gets the profile builder (the feed interns frames in it).</summary>
    public ProfileBuilder Profile => _builder;

    /// <summary>Gets the number of exceptions added.</summary>
    public long Count { get; private set; }

    /// <summary>Adds one thrown exception.</summary>
    /// <param name="stack">The throwing stack, leaf first, as frame ids of <see cref="Profile"/>.</param>
    /// <param name="threadId">The throwing OS thread.</param>
    /// <param name="timestamp">When (Stopwatch clock).</param>
    /// <param name="typeName">The exception's type.</param>
    /// <param name="message">Its message (used only when messages were asked for).</param>
    /// <param name="count">How many thrown exceptions it stands for: 1, or more when the feed sampled a storm (the flight recorder).</param>
    public void Add(ReadOnlySpan<int> stack, int threadId, long timestamp, string? typeName, string? message, long count = 1)
    {
        Count += count;
        _count[0] = count;
        var name = string.IsNullOrEmpty(typeName) ? "(unknown exception type)" : typeName;
        if (!_types.TryGetValue(name, out var type))
        {
            type = (_builder.InternFrame(new ProfileFrame(name, "(exception type)")), new ProfileLabel("exception_type", name));
            _types[name] = type;
        }

        _stack.Clear();
        _stack.Add(type.Frame);
        foreach (var frame in stack)
        {
            _stack.Add(frame);
        }

        var labels = _messages
            ? _labels.For(threadId, timestamp, type.Label, new ProfileLabel("exception_message", Truncate(message ?? "")))
            : _labels.For(threadId, timestamp, type.Label);
        _builder.Add(CollectionsMarshal.AsSpan(_stack), _count, labels);
    }

    /// <summary>Builds the profile (the feed has added its comments to <see cref="Profile"/>).</summary>
    /// <returns>The profile.</returns>
    public Profile Build()
    {
        _builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf exceptions profile: {Count} first-chance exceptions; leaf = exception type, callers = the throw stack; messages {(_messages ? "included (cut to " + MaxMessageLength + " characters)" : "left out (ParseOptions.ExceptionMessages)")}."));
        return _builder.Build();
    }

    private static string Truncate(string message) => message.Length <= MaxMessageLength ? message : message[..MaxMessageLength];
}
