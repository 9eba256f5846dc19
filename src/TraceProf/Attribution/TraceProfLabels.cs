using TraceProf.Attribution;

namespace TraceProf;

/// <summary>
/// Labels the app puts on the profile samples taken inside a scope — the .NET form of Go's <c>pprof.Do</c>.
/// A scope flows with the async flow (across <c>await</c>, onto any thread), nests (an inner scope may
/// replace a key), and ends on dispose:
/// <code>using (TraceProfLabels.Add("stage", "validation")) { await ValidateAsync(); }</code>
/// </summary>
/// <remarks>
/// Labels become pprof sample labels, so their cardinality is bounded: keys of at most
/// <see cref="MaxKeyLength"/> characters, values truncated to <see cref="MaxValueLength"/>, and at most
/// <see cref="MaxLabels"/> labels in one context (further keys are ignored). Outside a capture a scope
/// costs one small allocation and an <see cref="AsyncLocal{T}"/> write.
/// </remarks>
public static class TraceProfLabels
{
    /// <summary>The longest key accepted.</summary>
    public const int MaxKeyLength = 64;

    /// <summary>Values longer than this are cut to this length.</summary>
    public const int MaxValueLength = 128;

    /// <summary>The most labels one context holds.</summary>
    public const int MaxLabels = 8;

    /// <summary>Labels the samples taken until the returned scope is disposed.</summary>
    /// <param name="key">The label key: 1 to <see cref="MaxKeyLength"/> characters, not one of TraceProf's own keys.</param>
    /// <param name="value">The value; cut to <see cref="MaxValueLength"/> characters.</param>
    /// <returns>The scope; dispose it to restore the labels that were current before.</returns>
    /// <exception cref="ArgumentException">The key is empty, too long, or reserved.</exception>
    public static Scope Add(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"A label key has at most {MaxKeyLength} characters; '{key[..16]}…' has {key.Length}.", nameof(key));
        }

        if (SpanLabels.IsReserved(key))
        {
            throw new ArgumentException($"'{key}' is a label TraceProf sets itself; choose another key.", nameof(key));
        }

        if (value.Length > MaxValueLength)
        {
            value = value[..MaxValueLength];
        }

        var previous = TimelineRecorder.Labels;
        TimelineRecorder.Labels = LabelContext.With(previous, key, value);
        return new Scope(previous);
    }

    /// <summary>A label scope; disposing it restores the labels that were current when it began.</summary>
    public readonly struct Scope : IDisposable, IEquatable<Scope>
    {
        private readonly LabelContext? _previous;

        internal Scope(LabelContext? previous)
        {
            _previous = previous;
        }

        /// <summary>Ends the scope.</summary>
        public void Dispose() => TimelineRecorder.Labels = _previous;

        /// <inheritdoc />
        public bool Equals(Scope other) => ReferenceEquals(_previous, other._previous);

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is Scope other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => _previous?.GetHashCode() ?? 0;

        /// <summary>Compares two scopes.</summary>
        /// <param name="left">One.</param>
        /// <param name="right">The other.</param>
        /// <returns>Whether they restore the same labels.</returns>
        public static bool operator ==(Scope left, Scope right) => left.Equals(right);

        /// <summary>Compares two scopes.</summary>
        /// <param name="left">One.</param>
        /// <param name="right">The other.</param>
        /// <returns>Whether they restore different labels.</returns>
        public static bool operator !=(Scope left, Scope right) => !left.Equals(right);
    }
}
