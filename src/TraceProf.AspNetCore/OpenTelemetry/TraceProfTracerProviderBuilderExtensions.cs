using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TraceProf.AspNetCore.OpenTelemetry;

namespace OpenTelemetry.Trace;

/// <summary>Adds TraceProf's opt-in OpenTelemetry features to a tracer provider.</summary>
public static class TraceProfTracerProviderBuilderExtensions
{
    /// <summary>
    /// Exports the spans of failed requests even when head sampling dropped them: the sampler configured by
    /// <c>OTEL_TRACES_SAMPLER</c> / <c>OTEL_TRACES_SAMPLER_ARG</c> (parent-based always-on when unset, as in the SDK)
    /// decides as usual, but a span it drops is still recorded in-process, and is exported if it ends in error (an
    /// error status, <c>http.response.status_code</c> of 500 or more, or an <c>exception</c> event).
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// <para>
    /// Call it <b>before</b> <c>AddOtlpExporter()</c> or any other exporter: processors run in the order they were
    /// added, and an export processor skips a span whose <see cref="System.Diagnostics.Activity.Recorded"/> flag is
    /// not set when its turn comes. Called after an exporter, the failed spans are silently not exported (and every
    /// dropped span is still recorded, for nothing). <c>UseOtlpExporter()</c> always places its processor last, so
    /// the order does not matter with it.
    /// </para>
    /// <para>
    /// This sets the provider's sampler. If the app chooses its sampler in code, pass it to
    /// <see cref="AddTraceProfErrorForcedExport(TracerProviderBuilder, Sampler)"/> instead of calling
    /// <c>SetSampler</c>: a <c>SetSampler</c> before this call is replaced, and one after it removes the error
    /// forcing (failed spans that were dropped are then not exported).
    /// </para>
    /// <para>
    /// Every span that head sampling dropped now costs as much as a sampled one until it ends, and a forced span may
    /// arrive without its parent or its children; see <c>docs/error-forced-export.md</c>.
    /// </para>
    /// </remarks>
    public static TracerProviderBuilder AddTraceProfErrorForcedExport(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .ConfigureServices(services => services.TryAddSingleton(new ErrorForcedExportRegistration(null)))
            .SetSampler(TraceProfSamplers.Compose)
            .AddProcessor(new ErrorForcingProcessor());
    }

    /// <summary>
    /// Exports the spans of failed requests even when head sampling dropped them: <paramref name="inner"/> decides as
    /// usual, but a span it drops is still recorded in-process, and is exported if it ends in error (an error status,
    /// <c>http.response.status_code</c> of 500 or more, or an <c>exception</c> event). Its other decisions, attributes
    /// and trace state are kept.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <param name="inner">
    /// The app's own sampler, for example <c>new ParentBasedSampler(new TraceIdRatioBasedSampler(0.1))</c>. Pass it
    /// here instead of to <c>SetSampler</c>: the SDK offers no way to read a sampler already set.
    /// </param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// Call it <b>before</b> <c>AddOtlpExporter()</c> or any other exporter, and do not call <c>SetSampler</c> after
    /// it; see <see cref="AddTraceProfErrorForcedExport(TracerProviderBuilder)"/> for why and for the costs.
    /// </remarks>
    public static TracerProviderBuilder AddTraceProfErrorForcedExport(this TracerProviderBuilder builder, Sampler inner)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(inner);
        return builder
            .ConfigureServices(services => services.TryAddSingleton(new ErrorForcedExportRegistration(inner)))
            .SetSampler(TraceProfSamplers.Compose)
            .AddProcessor(new ErrorForcingProcessor());
    }

    /// <summary>
    /// Samples about <see cref="TraceProf.AspNetCore.TraceProfAdaptiveSamplingOptions.TargetTracesPerSecond"/> root
    /// traces per second whatever the request rate: a parent-based head sampler whose root probability is recomputed
    /// every second from the observed rate of root spans (smoothed, clamped to
    /// [<see cref="TraceProf.AspNetCore.TraceProfAdaptiveSamplingOptions.MinProbability"/>, 1]), and raised by
    /// <see cref="TraceProf.AspNetCore.TraceProfAdaptiveSamplingOptions.BoostFactor"/> for
    /// <see cref="TraceProf.AspNetCore.TraceProfAdaptiveSamplingOptions.BoostSeconds"/> after a second whose local root
    /// spans failed or were slow beyond the thresholds. Its probability and rates are gauges of the <c>TraceProf</c>
    /// meter and appear in TraceProf's JSON index (<c>tracing.adaptiveSampler</c>).
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <param name="configure">Changes to the defaults, for example <c>o =&gt; o.TargetTracesPerSecond = 20</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its documented range.</exception>
    /// <remarks>
    /// This sets the provider's sampler: do not call <c>SetSampler</c> after it. It composes with
    /// <see cref="AddTraceProfErrorForcedExport(TracerProviderBuilder)"/> in either order (failed requests the adaptive
    /// sampler dropped are still exported); the overload of that method that takes a sampler conflicts with it and
    /// fails when the provider is built. Time is read from the services' <see cref="TimeProvider"/> when there is one.
    /// </remarks>
    public static TracerProviderBuilder AddTraceProfAdaptiveSampling(this TracerProviderBuilder builder, Action<TraceProf.AspNetCore.TraceProfAdaptiveSamplingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new TraceProf.AspNetCore.TraceProfAdaptiveSamplingOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder
            .ConfigureServices(services => services.TryAddSingleton(sp => new AdaptiveSampler(options, sp.GetService<TimeProvider>(), sp.GetService<System.Diagnostics.Metrics.IMeterFactory>())))
            .SetSampler(TraceProfSamplers.Compose)
            .AddProcessor(sp => new AdaptiveSamplingProcessor(sp.GetRequiredService<AdaptiveSampler>()));
    }
}
