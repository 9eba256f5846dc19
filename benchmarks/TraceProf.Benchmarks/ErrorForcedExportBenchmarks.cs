using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace TraceProf.Benchmarks;

/// <summary>
/// What error-forced export costs per request that head sampling dropped: a "request" is a server span with three
/// child spans, each filled with four tags only when recorded (as instrumentations do), exported by a simple
/// processor to an exporter that does nothing. Run:
/// <c>dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- --filter '*ErrorForcedExport*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class ErrorForcedExportBenchmarks
{
    /// <summary>How the provider samples, and whether the request fails.</summary>
    public enum Setup
    {
        /// <summary>Head sampling drops the request: the baseline a sampled-out request costs today.</summary>
        Dropped,

        /// <summary>Head sampling drops it, error forcing records it; it succeeds, so nothing is exported.</summary>
        DroppedForcedOk,

        /// <summary>Head sampling drops it, error forcing records it; it fails, so its server span is exported.</summary>
        DroppedForcedFailed,

        /// <summary>Head sampling samples it: every span is exported (to nothing), for comparison.</summary>
        Sampled,

        /// <summary>As <see cref="Sampled"/>, but the always-on sampler is wrapped by error forcing.</summary>
        SampledForced,
    }

    private static readonly ActivitySource Source = new("TraceProf.Benchmarks.ErrorForcedExport");

    private TracerProvider? _provider;

    [Params(Setup.Dropped, Setup.DroppedForcedOk, Setup.DroppedForcedFailed, Setup.Sampled, Setup.SampledForced)]
    public Setup Mode { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        var builder = Sdk.CreateTracerProviderBuilder().AddSource(Source.Name);
        builder = Mode switch
        {
            Setup.Dropped => builder.SetSampler(new AlwaysOffSampler()),
            Setup.Sampled => builder.SetSampler(new AlwaysOnSampler()),
            Setup.SampledForced => builder.AddTraceProfErrorForcedExport(new AlwaysOnSampler()),
            _ => builder.AddTraceProfErrorForcedExport(new AlwaysOffSampler()),
        };
        _provider = builder.AddProcessor(new SimpleActivityExportProcessor(new NothingExporter())).Build();
    }

    [GlobalCleanup]
    public void GlobalCleanup() => _provider?.Dispose();

    [Benchmark]
    public void Request()
    {
        using var server = Source.StartActivity("GET /orders/{id}", ActivityKind.Server);
        Fill(server);
        for (var i = 0; i < 3; i++)
        {
            using var child = Source.StartActivity("SELECT orders", ActivityKind.Client);
            Fill(child);
        }

        if (Mode == Setup.DroppedForcedFailed)
        {
            server?.SetStatus(ActivityStatusCode.Error);
        }
    }

    private static void Fill(Activity? activity)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("http.request.method", "GET");
            activity.SetTag("url.path", "/orders/42");
            activity.SetTag("server.address", "shop.internal");
            activity.SetTag("http.response.status_code", 200);
        }
    }

    private sealed class NothingExporter : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch) => ExportResult.Success;
    }
}
