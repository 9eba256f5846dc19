using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf;
using TraceProf.AspNetCore;
using TraceProf.AspNetCore.Builder;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.AspNetCore.Pyroscope;
using TraceProf.AspNetCore.Security;
using TraceProf.AspNetCore.Triggers;
using TraceProf.AspNetCore.Ui;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Pipeline;
using TraceProf.Storage;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TraceProf.</summary>
public static class TraceProfServiceCollectionExtensions
{
    /// <summary>
    /// Adds TraceProf: the <c>/debug</c> endpoints (placed first in the pipeline unless <c>MapTraceProf</c> places
    /// them), the role gate, EventPipe captures and the embedded snapshot store. Settings come from the
    /// <c>TraceProf</c> configuration section, then <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Optional changes to the options after configuration is bound.</param>
    /// <returns>The services, for chaining.</returns>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "TraceProfOptions is preserved by its registration.")]
    public static IServiceCollection AddTraceProf(this IServiceCollection services, Action<TraceProfOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(TraceProfMarker)))
        {
            if (configure is not null)
            {
                services.Configure(configure);
            }

            return services;
        }

        var optionsBuilder = services.AddOptions<TraceProfOptions>().BindConfiguration(TraceProfOptions.SectionName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.AddSingleton<IValidateOptions<TraceProfOptions>, TraceProfOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<TraceProfAspNetCoreMetrics>();
        services.AddSingleton<TraceProfMarker>();
        services.AddSingleton(sp => new RoleMap(sp.GetRequiredService<IOptions<TraceProfOptions>>().Value.Roles));
        services.AddSingleton(sp => new ApiKeyVerifier(sp.GetRequiredService<IOptions<TraceProfOptions>>().Value.ApiKeyHashes, sp.GetRequiredService<IOptions<TraceProfOptions>>().Value.ApiKeys));
        // Data Protection seals the browser UI's session cookie, which the gate reads; the registration keeps whatever
        // the host configured (key ring location).
        services.AddDataProtection();
        services.AddSingleton<UiSessionCookie>();
        services.AddSingleton<TraceProfGate>();
        services.AddHostedService<LoopbackTrustWarning>(); // one Warning at start outside Development: loopback trusted, no key
        services.AddTraceProfUi(); // the browser UI: Ui/UiServiceCollectionExtensions.cs
        services.AddSingleton<EndpointGuard>();
        services.AddSingleton<IndexEndpoints>();
        services.AddSingleton<CaptureEndpoints>();
        services.AddSingleton<HeapEndpoints>();
        services.AddSingleton<WaitEndpoints>();
        services.AddSingleton<SnapshotEndpoints>();
        services.AddSingleton<TraceEndpoints>();
        services.AddSingleton<TraceProfEndpoints>();
        services.AddSingleton<TraceProfDispatcher>();
        services.TryAddSingleton<ICaptureSource>(sp => new EventPipeCaptureSource(sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<EventPipeCaptureSource>>()));
        services.TryAddSingleton<ISnapshotStore>(sp => sp.GetRequiredService<SnapshotStoreGuard>());
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TraceProfOptions>>().Value;
            var limits = new SnapshotStoreOptions
            {
                Path = StoragePath(options, sp.GetRequiredService<IHostEnvironment>()),
                MaxCount = options.Storage.MaxCount,
                MaxAge = TimeSpan.FromHours(options.Storage.MaxAgeHours),
                MaxTotalBytes = options.Storage.MaxTotalMegabytes * 1024L * 1024L,
                CaptureTempPath = CaptureTempFolder.Choose(Path.Combine(StoragePath(options, sp.GetRequiredService<IHostEnvironment>()), "tmp")), // = CaptureCoordinatorOptions.TempDirectory
            };
            var time = sp.GetRequiredService<TimeProvider>();
            _ = options.Storage.TryGetProvider(out var provider); // validated at start
            var opener = provider == StorageProvider.PostgreSql
                ? PostgreSqlOpener(sp, options.Storage.ConnectionString!, limits, time)
                : SqliteOpener(sp, limits, time);
            return new SnapshotStoreGuard(opener, time, sp.GetService<ILogger<SnapshotStoreGuard>>());
        });
        services.AddSingleton(sp => sp.GetRequiredService<SnapshotStoreGuard>().Health);

        // Open the store while the host starts: a configuration error fails start-up; a store that cannot be used
        // (corrupt, read-only, unreachable) is reported and the host runs on (Storage/SnapshotStoreGuard).
        services.AddHostedService<SnapshotStoreStartup>();

        // The CPU sampler, decided once (auto probes perf_event; perf where it is unavailable fails the start).
        services.TryAddSingleton(sp =>
        {
            var cpu = sp.GetRequiredService<IOptions<TraceProfOptions>>().Value.Cpu;
            _ = CpuSamplerChoice.TryParse(cpu.Sampler, out var mode); // validated at start
            return CpuSamplerChoice.Resolve(mode);
        });
        services.AddHostedService<CpuSamplerStartup>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TraceProfOptions>>().Value;
            var environment = sp.GetRequiredService<IHostEnvironment>();
            return new CaptureCoordinator(
                sp.GetRequiredService<ICaptureSource>(),
                sp.GetRequiredService<ISnapshotStore>(),
                new CaptureCoordinatorOptions
                {
                    TempDirectory = CaptureTempFolder.Choose(Path.Combine(StoragePath(options, environment), "tmp")), // a read-only store folder falls back to the system temp
                    ServiceName = ServiceIdentity.Name(sp, options, environment),
                    ServiceInstanceId = ServiceIdentity.InstanceId(sp),
                    ExceptionMessages = options.ExceptionMessages,
                    CpuSampler = sp.GetRequiredService<CpuSamplerChoice>(),
                    PerfSampler = new PerfSamplerSettings { Period = TimeSpan.FromMilliseconds(options.Cpu.PerfPeriodMilliseconds) },
                },
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<CaptureCoordinator>>(),
                sp.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        });
        services.AddTransient<IStartupFilter, TraceProfStartupFilter>();

        // The flight recorder: a background session and the request-end triggers that save failed requests.
        services.AddSingleton<RequestTriggers>();
        services.AddSingleton<FlightRecorderService>();
        services.AddHostedService(sp => sp.GetRequiredService<FlightRecorderService>());
        services.AddHostedService<HeapGrowthTrigger>(); // FlightRecorder:HeapGrowthPercent, off by default
        services.AddSingleton<StarvationTrigger>();
        services.AddHostedService(sp => sp.GetRequiredService<StarvationTrigger>()); // FlightRecorder:OnThreadPoolStarvation, on by default
        services.AddSingleton<RuntimeTriggers>();
        services.AddHostedService(sp => sp.GetRequiredService<RuntimeTriggers>()); // FlightRecorder:Triggers, each off by default
        services.AddSingleton<PyroscopeExporter>(); // Pyroscope:Url, off by default
        services.AddHostedService(sp => sp.GetRequiredService<PyroscopeExporter>());

        // While a capture listens, ASP.NET Core must start an Activity per request even without OpenTelemetry,
        // so that every sample can name its trace.
        TimelineRecorder.EnsureActivitiesFrom("Microsoft.AspNetCore");
        return services;
    }

    // One method per provider, returning the base type, so that compiling the registration names no type that
    // holds Npgsql's: a host on SQLite never loads Npgsql (tests/TraceProf.AspNetCore.Tests/Storage/NpgsqlLoadingTests).
#pragma warning disable CA1859
    private static SnapshotStoreOpener PostgreSqlOpener(IServiceProvider sp, string connectionString, SnapshotStoreOptions limits, TimeProvider time) =>
        new PostgreSqlStoreOpener(connectionString, limits, "TraceProf:Storage:ConnectionString", time, sp.GetService<ILogger<PostgreSqlSnapshotStore>>());

    private static SnapshotStoreOpener SqliteOpener(IServiceProvider sp, SnapshotStoreOptions limits, TimeProvider time) =>
        new SqliteStoreOpener(limits, "TraceProf:Storage:Path", time, sp.GetService<ILogger<SqliteSnapshotStore>>());
#pragma warning restore CA1859

    internal static string StoragePath(TraceProfOptions options, IHostEnvironment environment)
    {
        if (!string.IsNullOrEmpty(options.Storage.Path))
        {
            return Path.GetFullPath(options.Storage.Path);
        }

        // The temp folder is writable even where the application's own folder is read-only (containers).
        var safeName = string.Concat(environment.ApplicationName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_'));
        return Path.Combine(Path.GetTempPath(), "traceprof", safeName.Length == 0 ? "app" : safeName);
    }
}
