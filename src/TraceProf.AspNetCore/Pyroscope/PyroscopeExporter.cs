using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Triggers;
using TraceProf.Encoding;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Recording;

namespace TraceProf.AspNetCore.Pyroscope;

/// <summary>
/// Every <see cref="TraceProfPyroscopeOptions.UploadIntervalSeconds"/>, cuts the flight recorder process-wide over
/// [end of the last upload, newest event read) and queues the profiles for Pyroscope; a second loop sends them.
/// Bounded everywhere: at most <see cref="QueueCapacity"/> uploads wait (a newer one is dropped when they are
/// full), one request at a time with a timeout, up to <see cref="MaxAttempts"/> tries with a doubling backoff, and
/// what is dropped is counted (<c>traceprof.pyroscope.uploads.dropped</c>) and logged once a minute. Nothing here
/// runs on a request thread or holds the recorder beyond the cut's copy under its lock.
/// </summary>
internal sealed class PyroscopeExporter : BackgroundService
{
    /// <summary>Uploads that may wait for the sender.</summary>
    public const int QueueCapacity = 3;

    /// <summary>Tries of one upload before it is dropped.</summary>
    public const int MaxAttempts = 3;

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan DropReportInterval = TimeSpan.FromMinutes(1);

    private readonly TraceProfPyroscopeOptions _options;
    private readonly FlightRecorderService _recorder;
    private readonly TimeProvider _time;
    private readonly TraceProfAspNetCoreMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string _serviceName;
    private readonly Channel<PyroscopeUpload> _queue = Channel.CreateBounded<PyroscopeUpload>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Lock _dropGate = new();
    private PyroscopeClient? _client;
    private long _lastEnd;
    private long _sent;
    private long _queueFull;
    private long _failed;
    private long _rejected;
    private string? _lastError;

    public PyroscopeExporter(IOptions<TraceProfOptions> options, FlightRecorderService recorder, CaptureCoordinator coordinator, TimeProvider time, TraceProfAspNetCoreMetrics metrics, ILogger<PyroscopeExporter> logger)
    {
        _options = options.Value.Pyroscope;
        _recorder = recorder;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _serviceName = _options.ApplicationName is { Length: > 0 } name ? name : coordinator.Options.ServiceName;
    }

    /// <summary>Gets how many uploads were accepted by the server.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Gets the counts of dropped uploads since start: queue full, failed after retries, rejected by the server.</summary>
    public (long QueueFull, long Failed, long Rejected) Dropped =>
        (Interlocked.Read(ref _queueFull), Interlocked.Read(ref _failed), Interlocked.Read(ref _rejected));

    /// <summary>Gets the <c>service_name</c> every series carries.</summary>
    public string ServiceName => _serviceName;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var recorder = await _recorder.Started.WaitAsync(stoppingToken).ConfigureAwait(false);
        if (recorder is null)
        {
            Log.PyroscopeRecorderOff(_logger);
            return;
        }

        using var client = new PyroscopeClient(_options);
        _client = client;
        Interlocked.Exchange(ref _lastEnd, Math.Max(recorder.LatestTimestamp, Stopwatch.GetTimestamp()));
        Log.PyroscopePushStarted(_logger, client.Target, _serviceName, _options.UploadIntervalSeconds);
        try
        {
            await Task.WhenAll(CollectLoopAsync(recorder, stoppingToken), SendLoopAsync(client, stoppingToken), ReportDropsAsync(stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping; what is queued is let go (the next process pushes its own window).
        }
    }

    /// <summary>
    /// Cuts the recorder over [end of the last cut, newest event read) and turns it into the upload's series; null when
    /// nothing new was read or nothing was recorded.
    /// </summary>
    /// <param name="recorder">The running recorder.</param>
    /// <param name="cancellationToken">Cancels the cut.</param>
    /// <returns>The upload, or null.</returns>
    internal async Task<PyroscopeUpload?> CollectAsync(FlightRecorder recorder, CancellationToken cancellationToken)
    {
        // Up to the newest event the session delivered, not to "now": EventPipe hands events over in batches, and
        // a cut to "now" would leave the newest ones out of this upload and, as they are older than the next
        // upload's start, out of every upload.
        var to = recorder.LatestTimestamp;
        var window = (long)(recorder.Options.Window.TotalSeconds * Stopwatch.Frequency);
        var from = Math.Max(Interlocked.Read(ref _lastEnd), to - window);
        if (to <= from)
        {
            return null;
        }

        var slice = await recorder.CutAsync(from, to, traceId: null, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastEnd, to);
        var series = new List<PyroscopeSeries>();
        foreach (var (name, profile) in PyroscopeProfiles.FromSlice(slice))
        {
            series.Add(new PyroscopeSeries(name, SeriesLabels(name), PprofEncoder.Encode(profile), profile.Samples.Count));
        }

        return series.Count == 0 ? null : new PyroscopeUpload(series, _time.GetUtcNow() - Stopwatch.GetElapsedTime(from), Stopwatch.GetElapsedTime(from, to));
    }

    /// <summary>Sends one upload, with retries and backoff; counts and remembers what was dropped.</summary>
    /// <param name="client">The client.</param>
    /// <param name="upload">The upload.</param>
    /// <param name="cancellationToken">Stops the tries.</param>
    /// <returns>The last outcome.</returns>
    internal async Task<PushOutcome> SendAsync(PyroscopeClient client, PyroscopeUpload upload, CancellationToken cancellationToken)
    {
        var backoff = FirstBackoff;
        PushOutcome outcome = PushOutcome.Failed("not sent");
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            outcome = await client.PushAsync(upload.Series, cancellationToken).ConfigureAwait(false);
            if (outcome.IsSent)
            {
                Interlocked.Increment(ref _sent);
                _metrics.PyroscopeUploaded(upload.Bytes);
                Log.PyroscopeUploaded(_logger, upload.Series.Count, upload.Samples, (long)upload.Duration.TotalMilliseconds);
                return outcome;
            }

            if (!outcome.IsRetryable || attempt == MaxAttempts)
            {
                break;
            }

            await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }

        Drop(outcome.IsRetryable ? "failed" : "rejected", outcome.Detail);
        return outcome;
    }

    private async Task CollectLoopAsync(FlightRecorder recorder, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.UploadIntervalSeconds), _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                if (await Task.Run(() => CollectAsync(recorder, stoppingToken), stoppingToken).ConfigureAwait(false) is { } upload && !_queue.Writer.TryWrite(upload))
                {
                    Drop("queue_full", "the sender is behind: " + QueueCapacity + " uploads were waiting");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // One bad cut must not stop the next: continuous profiling degrades, the host runs on.
                Log.PyroscopeCollectFailed(_logger, ex);
            }
        }
    }

    private async Task SendLoopAsync(PyroscopeClient client, CancellationToken stoppingToken)
    {
        await foreach (var upload in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            await SendAsync(client, upload, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task ReportDropsAsync(CancellationToken stoppingToken)
    {
        var previous = (0L, 0L, 0L);
        using var timer = new PeriodicTimer(DropReportInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var now = Dropped;
            var delta = (now.QueueFull - previous.Item1, now.Failed - previous.Item2, now.Rejected - previous.Item3);
            previous = now;
            if (delta.Item1 + delta.Item2 + delta.Item3 > 0)
            {
                string? lastError;
                lock (_dropGate)
                {
                    lastError = _lastError;
                }

                Log.PyroscopeUploadsDropped(_logger, delta.Item1 + delta.Item2 + delta.Item3, delta.Item1, delta.Item2, delta.Item3, _client?.Target ?? "", lastError ?? "");
            }
        }
    }

    private void Drop(string reason, string? detail)
    {
        switch (reason)
        {
            case "queue_full":
                Interlocked.Increment(ref _queueFull);
                break;
            case "failed":
                Interlocked.Increment(ref _failed);
                break;
            default:
                Interlocked.Increment(ref _rejected);
                break;
        }

        lock (_dropGate)
        {
            _lastError = detail;
        }

        _metrics.PyroscopeUploadDropped(reason);
    }

    private List<ProfileLabel> SeriesLabels(string name)
    {
        var labels = new List<ProfileLabel>(3 + _options.Labels.Count)
        {
            new(PyroscopeLabels.MetricName, name),
            new(PyroscopeLabels.ServiceName, _serviceName),
            new(PyroscopeLabels.Delta, "false"),
        };
        foreach (var (key, value) in _options.Labels)
        {
            labels.Add(new ProfileLabel(key, value));
        }

        return labels;
    }
}
