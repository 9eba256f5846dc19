using System.Diagnostics;

namespace TraceProf.Recording;

/// <summary>What the storm guard asks of the exception session after a reading.</summary>
internal enum StormDecision
{
    /// <summary>Keep it as it is.</summary>
    None,

    /// <summary>The rate passed the bound: stop the session.</summary>
    Pause,

    /// <summary>The rate stayed under the bound for the cooldown: start the session again.</summary>
    Resume,
}

/// <summary>
/// Decides when the flight recorder's exception session pauses for a storm and when it resumes, from readings of the
/// process's first-chance exception count (taken about once a second). Pauses when the rate since the last reading
/// passes the bound; resumes once every reading has stayed at or under it for the cooldown. A storm that comes back
/// soon after a resume (within two cooldowns) doubles the next cooldown, up to <see cref="MaxCooldownFactor"/> times
/// the configured one, so a flapping storm restarts the session rarely; a calm resume resets it.
/// Not thread-safe: one caller (the recorder's timer) reads it.
/// </summary>
internal sealed class ExceptionStormGuard
{
    /// <summary>The longest cooldown, as a multiple of the configured one.</summary>
    public const int MaxCooldownFactor = 16;

    private readonly int _perSecond;
    private readonly TimeSpan _cooldown;
    private long _lastCount = -1;
    private long _lastTime;
    private long _calmSince;
    private long _lastResume;
    private int _factor = 1;

    /// <summary>Creates a guard.</summary>
    /// <param name="perSecond">The bound in exceptions a second; 0: never pause.</param>
    /// <param name="cooldown">How long the rate must stay under the bound before a resume.</param>
    public ExceptionStormGuard(int perSecond, TimeSpan cooldown)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(cooldown, TimeSpan.Zero);
        _perSecond = perSecond;
        _cooldown = cooldown;
    }

    /// <summary>Gets whether the guard holds the session paused.</summary>
    public bool Paused { get; private set; }

    /// <summary>Gets the rate of the last reading (exceptions a second), or 0 before the second reading.</summary>
    public double LastRate { get; private set; }

    /// <summary>Gets the highest rate read since the current (or last) pause began.</summary>
    public double PeakRate { get; private set; }

    /// <summary>Gets the cooldown the current (or next) pause waits for.</summary>
    public TimeSpan Cooldown => _cooldown * _factor;

    /// <summary>Reads the count at a time and says what to do.</summary>
    /// <param name="count">First-chance exceptions thrown in the process so far.</param>
    /// <param name="timestamp">When it was read (Stopwatch clock).</param>
    /// <returns>What the session should do.</returns>
    public StormDecision Observe(long count, long timestamp)
    {
        if (_lastCount < 0 || timestamp <= _lastTime)
        {
            _lastCount = count;
            _lastTime = timestamp;
            return StormDecision.None;
        }

        var rate = (count - _lastCount) / ((double)(timestamp - _lastTime) / Stopwatch.Frequency);
        var intervalStart = _lastTime;
        _lastCount = count;
        _lastTime = timestamp;
        LastRate = rate;
        var storm = _perSecond > 0 && rate > _perSecond;
        if (!Paused)
        {
            if (!storm)
            {
                return StormDecision.None;
            }

            var soonAfterResume = _lastResume != 0 && Stopwatch.GetElapsedTime(_lastResume, timestamp) < 2 * Cooldown;
            _factor = soonAfterResume ? Math.Min(_factor * 2, MaxCooldownFactor) : 1;
            Paused = true;
            PeakRate = rate;
            _calmSince = 0;
            return StormDecision.Pause;
        }

        PeakRate = Math.Max(PeakRate, rate);
        if (storm)
        {
            _calmSince = 0;
            return StormDecision.None;
        }

        // Calm since the start of the first calm interval in a row.
        if (_calmSince == 0)
        {
            _calmSince = intervalStart;
        }

        if (Stopwatch.GetElapsedTime(_calmSince, timestamp) < Cooldown)
        {
            return StormDecision.None;
        }

        Paused = false;
        _lastResume = timestamp;
        return StormDecision.Resume;
    }

    /// <summary>The session did not start again: the guard holds it paused for another cooldown.</summary>
    public void ResumeFailed()
    {
        Paused = true;
        _calmSince = 0;
    }
}
