using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using TraceProf.AspNetCore.OpenTelemetry;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.OpenTelemetry;

/// <summary>
/// Through real HTTP on Kestrel, with OpenTelemetry's ASP.NET Core instrumentation and an in-memory exporter: which
/// request spans are exported when head sampling drops them.
/// </summary>
[Collection("OpenTelemetry")]
public sealed class ErrorForcedExportTests
{
    // Long enough for a busy machine; a request that ends sooner returns sooner.
    private static readonly TimeSpan SpanEndTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("always_off")]
    [InlineData("traceidratio_0")]
    public async Task ErrorForcedExport_RequestReturning500_IsExportedWithRecordedFlag(string inner)
    {
        await using var app = await TracedApp.StartAsync(t => t
            .AddAspNetCoreInstrumentation()
            .AddTraceProfErrorForcedExport(inner == "always_off" ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(0)));

        var span = await app.SendAsync("/fail", HttpStatusCode.InternalServerError);

        Assert.NotNull(span);
        Assert.True(span.Recorded);
        Assert.Equal(500, span.GetTagItem(ErrorForcingProcessor.StatusCodeTag));
    }

    [Fact]
    public async Task ErrorForcedExport_RequestThatThrows_IsExportedWithRecordedFlag()
    {
        await using var app = await TracedApp.StartAsync(t => t
            .AddAspNetCoreInstrumentation()
            .AddTraceProfErrorForcedExport(new AlwaysOffSampler()));

        var span = await app.SendAsync("/throw", HttpStatusCode.InternalServerError);

        Assert.NotNull(span);
        Assert.True(span.Recorded);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task ErrorForcedExport_SuccessfulRequest_IsNotExported()
    {
        await using var app = await TracedApp.StartAsync(t => t
            .AddAspNetCoreInstrumentation()
            .AddTraceProfErrorForcedExport(new AlwaysOffSampler()));

        Assert.Null(await app.SendAsync("/ok", HttpStatusCode.OK));
        Assert.Null(await app.SendAsync("/missing", HttpStatusCode.NotFound));

        // The same host still exports a failure, so the nulls above are not a broken pipeline.
        Assert.NotNull(await app.SendAsync("/fail", HttpStatusCode.InternalServerError));
    }

    [Fact]
    public async Task WithoutErrorForcedExport_FailedRequest_IsNotExported()
    {
        await using var app = await TracedApp.StartAsync(t => t
            .SetSampler(new AlwaysOffSampler())
            .AddAspNetCoreInstrumentation());

        Assert.Null(await app.SendAsync("/fail", HttpStatusCode.InternalServerError));
        Assert.Null(await app.SendAsync("/throw", HttpStatusCode.InternalServerError));
    }

    [Fact]
    public async Task ErrorForcedExport_AlwaysOnInner_ExportsEverySpan()
    {
        await using var app = await TracedApp.StartAsync(t => t
            .AddAspNetCoreInstrumentation()
            .AddTraceProfErrorForcedExport(new AlwaysOnSampler()));

        var ok = await app.SendAsync("/ok", HttpStatusCode.OK);
        var failed = await app.SendAsync("/fail", HttpStatusCode.InternalServerError);

        Assert.NotNull(ok);
        Assert.True(ok.Recorded);
        Assert.NotNull(failed);
        Assert.True(failed.Recorded);
    }

    [Fact]
    public async Task ErrorForcedExport_WithoutInnerSampler_HonoursOtelTracesSampler()
    {
        await using var app = await TracedApp.StartAsync(
            t => t.AddAspNetCoreInstrumentation().AddTraceProfErrorForcedExport(),
            builder => builder.Configuration[ConfiguredSampler.SamplerKey] = "always_off");

        Assert.Null(await app.SendAsync("/ok", HttpStatusCode.OK));
        Assert.NotNull(await app.SendAsync("/fail", HttpStatusCode.InternalServerError));
    }

    [Fact]
    public async Task ErrorForcedExport_AddedAfterTheExporter_FailedRequestIsNotExported()
    {
        // The documented pitfall: the export processor has already skipped the span when the flag is set.
        await using var app = await TracedApp.StartAsync(
            t => t.AddAspNetCoreInstrumentation(),
            afterExporter: t => t.AddTraceProfErrorForcedExport(new AlwaysOffSampler()));

        Assert.Null(await app.SendAsync("/fail", HttpStatusCode.InternalServerError));
    }

    /// <summary>A Kestrel host with OpenTelemetry tracing into a list, and a way to send one request and find its span.</summary>
    private sealed class TracedApp : IAsyncDisposable
    {
        private readonly TraceProfHost _host;

        private readonly List<Activity> _exported;

        private readonly ServerSpanWatcher _watcher = new();

        private TracedApp(TraceProfHost host, List<Activity> exported)
        {
            _host = host;
            _exported = exported;
        }

        public static async Task<TracedApp> StartAsync(
            Action<TracerProviderBuilder> beforeExporter,
            Action<WebApplicationBuilder>? configureBuilder = null,
            Action<TracerProviderBuilder>? afterExporter = null)
        {
            var exported = new List<Activity>();
            var host = await TraceProfHost.StartAsync(
                configureBuilder: builder =>
                {
                    configureBuilder?.Invoke(builder);
                    builder.Services.AddOpenTelemetry().WithTracing(t =>
                    {
                        beforeExporter(t);
                        t.AddInMemoryExporter(exported);
                        afterExporter?.Invoke(t);
                    });
                },
                configureApp: app =>
                {
                    app.MapGet("/ok", () => "ok");
                    app.MapGet("/fail", () => Results.StatusCode(StatusCodes.Status500InternalServerError));
                    app.MapGet("/throw", string () => throw new InvalidOperationException("the order service is down"));
                });

            // After the host started, so that the watcher hears of a span's end after the provider's processors.
            return new TracedApp(host, exported);
        }

        /// <summary>Sends a GET in a fresh trace, waits for its server span to end, and returns the span if exported.</summary>
        public async Task<Activity?> SendAsync(string path, HttpStatusCode expected)
        {
            var traceId = ActivityTraceId.CreateRandom();
            var ended = _watcher.Watch(traceId);

            // An upstream service that did not sample the trace: flags 00.
            var traceparent = $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-00";
            using (var response = await _host.Client.SendAsync(Requests.Get(path, traceparent: traceparent)))
            {
                Assert.Equal(expected, response.StatusCode);
            }

            await ended.WaitAsync(SpanEndTimeout);
            Assert.True(_host.Services.GetRequiredService<TracerProvider>().ForceFlush());
            return _exported.SingleOrDefault(a => a.TraceId == traceId && a.Kind == ActivityKind.Server);
        }

        public async ValueTask DisposeAsync()
        {
            _watcher.Dispose();
            await _host.DisposeAsync();
        }
    }
}
