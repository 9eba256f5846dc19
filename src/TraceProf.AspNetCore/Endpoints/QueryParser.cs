using System.Globalization;
using Microsoft.AspNetCore.Http;
using TraceProf.Encoding;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>Validates query parameters; every failure carries a detail that says what is allowed.</summary>
internal static class QueryParser
{
    private const int MaxEchoedLength = 40;

    // ISO 8601 as a machine writes it: a date, or a date and time with an optional fraction and offset (none = UTC).
    private static readonly string[] SinceFormats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    public static bool TryGetSeconds(HttpRequest request, TraceProfOptions options, out int seconds, out string? error)
    {
        seconds = options.DefaultCaptureSeconds;
        if (!TryGetSingle(request, "seconds", out var raw, out error))
        {
            return false;
        }

        if (raw is null)
        {
            return true;
        }

        if (!TryParseDigits(raw, out seconds) || seconds < 1 || seconds > options.MaxCaptureSeconds)
        {
            error = $"seconds must be an integer from 1 to {options.MaxCaptureSeconds}; got '{Echo(raw)}'.";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Reads <c>sampler</c> of a CPU capture: absent for the configured sampler, <c>perf</c> (on-CPU time from the kernel)
    /// or <c>eventpipe</c> (the runtime's sampler, which also gives wall time).
    /// </summary>
    public static bool TryGetSampler(HttpRequest request, out bool? usePerf, out string? error)
    {
        usePerf = null;
        if (!TryGetSingle(request, "sampler", out var raw, out error))
        {
            return false;
        }

        switch (raw)
        {
            case null:
                return true;
            case "perf":
                usePerf = true;
                return true;
            case "eventpipe":
                usePerf = false;
                return true;
            default:
                error = $"sampler must be perf (on-CPU time, sampled by the kernel) or eventpipe (the runtime's sampler: cpu and wall); got '{Echo(raw)}'.";
                return false;
        }
    }

    /// <summary>Reads <c>raw</c>: 1 keeps every frame (the runtime's async plumbing is folded by default).</summary>
    public static bool TryGetRaw(HttpRequest request, out bool rawFrames, out string? error)
    {
        rawFrames = false;
        if (!TryGetSingle(request, "raw", out var raw, out error))
        {
            return false;
        }

        if (raw is null or "0")
        {
            return true;
        }

        if (raw != "1")
        {
            error = $"raw must be 0 (async plumbing folded, the default) or 1 (every frame); got '{Echo(raw)}'.";
            return false;
        }

        rawFrames = true;
        return true;
    }

    /// <summary>Reads <c>include</c> of the snapshot list: absent, or <c>traces</c> to list each row's contained trace ids.</summary>
    public static bool TryGetIncludeTraces(HttpRequest request, out bool includeTraces, out string? error)
    {
        includeTraces = false;
        if (!TryGetSingle(request, "include", out var include, out error) || include is null)
        {
            return error is null;
        }

        if (include != "traces")
        {
            error = $"include must be 'traces' (list each snapshot's contained trace ids; without it a row says only how many); got '{Echo(include)}'.";
            return false;
        }

        includeTraces = true;
        return true;
    }

    public static bool TryGetDebug(HttpRequest request, out int debug, out string? error)
    {
        debug = 0;
        if (!TryGetSingle(request, "debug", out var raw, out error))
        {
            return false;
        }

        if (raw is null)
        {
            return true;
        }

        if (raw is not ("0" or "1" or "2"))
        {
            error = $"debug must be 0 (pprof), 1 (text, identical stacks grouped) or 2 (text, one block per thread); got '{Echo(raw)}'.";
            return false;
        }

        debug = raw[0] - '0';
        return true;
    }

    public static bool TryGetFormat(HttpRequest request, out ProfileFormat format, out string? error) =>
        TryGetFormat(request, ProfileFormat.Pprof, out format, out error);

    public static bool TryGetFormat(HttpRequest request, ProfileFormat defaultFormat, out ProfileFormat format, out string? error)
    {
        format = defaultFormat;
        if (!TryGetSingle(request, "format", out var raw, out error))
        {
            return false;
        }

        if (raw is null || ProfileFormats.TryParse(raw, out format))
        {
            return true;
        }

        error = $"format must be one of {string.Join(", ", ProfileFormats.Names)}; got '{Echo(raw)}'.";
        return false;
    }

    public static bool TryGetTraceId(HttpRequest request, out string? traceId, out string? error)
    {
        if (!TryGetSingle(request, "traceId", out traceId, out error))
        {
            return false;
        }

        if (traceId is null || TraceIds.IsValid(traceId))
        {
            return true;
        }

        error = $"traceId must be a W3C trace id of 32 lower-case hex digits, not all zero; got '{Echo(traceId)}'.";
        return false;
    }

    /// <summary>Reads <c>spanId</c>: a W3C span id (16 lower-case hex digits, not all zero), or none.</summary>
    public static bool TryGetSpanId(HttpRequest request, out string? spanId, out string? error)
    {
        if (!TryGetSingle(request, "spanId", out spanId, out error))
        {
            return false;
        }

        if (spanId is null || TraceIds.IsValidSpanId(spanId))
        {
            return true;
        }

        error = $"spanId must be a W3C span id of 16 lower-case hex digits, not all zero; got '{Echo(spanId)}'.";
        return false;
    }

    public static bool TryGetLimit(HttpRequest request, int max, out int limit, out string? error)
    {
        limit = 100;
        if (!TryGetSingle(request, "limit", out var raw, out error))
        {
            return false;
        }

        if (raw is null)
        {
            return true;
        }

        if (!TryParseDigits(raw, out limit) || limit < 1 || limit > max)
        {
            error = $"limit must be an integer from 1 to {max}; got '{Echo(raw)}'.";
            return false;
        }

        return true;
    }

    public static bool TryGetSince(HttpRequest request, out DateTimeOffset? since, out string? error)
    {
        since = null;
        if (!TryGetSingle(request, "since", out var raw, out error))
        {
            return false;
        }

        if (raw is null)
        {
            return true;
        }

        if (!raw.All(c => c is > ' ' and < '\x7f') ||
            !DateTimeOffset.TryParseExact(raw, SinceFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            error = $"since must be an ISO 8601 date and time such as 2026-01-31T12:00:00Z; got '{Echo(raw)}'.";
            return false;
        }

        since = parsed;
        return true;
    }

    /// <summary>
    /// Reads <c>trigger</c>: a prefix of the snapshot's trigger (<c>request</c>, <c>status:5</c>, <c>slow:</c>,
    /// <c>exception:</c>, <c>heap-growth:</c>), 1 to 64 of ASCII letters, digits and <c>: . _ - % +</c>.
    /// </summary>
    public static bool TryGetTrigger(HttpRequest request, out string? trigger, out string? error)
    {
        if (!TryGetSingle(request, "trigger", out trigger, out error) || trigger is null)
        {
            return error is null;
        }

        if (trigger.Length is > 0 and <= 64 && trigger.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '.' or '_' or '-' or '%' or '+'))
        {
            return true;
        }

        error = $"trigger is a prefix of a snapshot's trigger (for example status:5, slow:, exception:, heap-growth:), 1 to 64 ASCII letters, digits or : . _ - % +; got '{Echo(trigger)}'.";
        return false;
    }

    public static bool TryGetKind(HttpRequest request, IReadOnlyCollection<string> kinds, out string? kind, out string? error)
    {
        if (!TryGetSingle(request, "kind", out kind, out error))
        {
            return false;
        }

        if (kind is null || kinds.Contains(kind))
        {
            return true;
        }

        error = $"kind must be one of {string.Join(", ", kinds)}; got '{Echo(kind)}'.";
        return false;
    }

    /// <summary>
    /// An integer of ASCII digits only, no sign, no white space, no other script's digits, no separators.
    /// <c>int.TryParse</c> even with <see cref="NumberStyles.None"/> ignores trailing NUL characters (<c>"1\0"</c>
    /// parses as 1), so it runs only after every character has been checked; it still catches overflow.
    /// </summary>
    public static bool TryParseDigits(string raw, out int value)
    {
        value = 0;
        return raw.Length > 0 && raw.All(char.IsAsciiDigit) &&
            int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// Caller input as it may appear in a detail: at most <see cref="MaxEchoedLength"/> characters, control and
    /// format characters (NUL, a right-to-left override) written as <c>\uXXXX</c> so the reader sees what was sent.
    /// </summary>
    public static string Echo(string value)
    {
        var cut = value.Length > MaxEchoedLength;
        var shown = cut ? value.AsSpan(0, char.IsHighSurrogate(value[MaxEchoedLength - 1]) ? MaxEchoedLength - 1 : MaxEchoedLength) : value.AsSpan();
        var text = new System.Text.StringBuilder(shown.Length + 8);
        for (var i = 0; i < shown.Length; i++)
        {
            var c = shown[i];
            var category = char.GetUnicodeCategory(c);
            var lone = char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < shown.Length && char.IsLowSurrogate(shown[i + 1])) &&
                !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(shown[i - 1]));
            if (category is UnicodeCategory.Control or UnicodeCategory.Format || lone)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                text.Append(c);
            }
        }

        return cut ? text.Append('…').ToString() : text.ToString();
    }

    private static bool TryGetSingle(HttpRequest request, string name, out string? value, out string? error)
    {
        value = null;
        error = null;
        var values = request.Query[name];
        if (values.Count == 0)
        {
            return true;
        }

        if (values.Count > 1)
        {
            error = $"{name} may be given once; got it {values.Count} times.";
            return false;
        }

        value = values[0];
        if (string.IsNullOrEmpty(value))
        {
            error = $"{name} must not be empty.";
            return false;
        }

        return true;
    }
}
