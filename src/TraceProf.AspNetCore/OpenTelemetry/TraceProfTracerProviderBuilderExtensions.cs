using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
            .SetSampler(sp => new ErrorForcingSampler(ConfiguredSampler.Create(sp.GetService<IConfiguration>())))
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
            .SetSampler(new ErrorForcingSampler(inner))
            .AddProcessor(new ErrorForcingProcessor());
    }
}
