using System.Globalization;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace TraceProf.AspNetCore.OpenTelemetry;

/// <summary>
/// The sampler the OpenTelemetry SDK would choose by itself when the app sets none: from <c>OTEL_TRACES_SAMPLER</c>
/// and <c>OTEL_TRACES_SAMPLER_ARG</c>, else parent-based always-on.
/// </summary>
/// <remarks>
/// Setting a sampler in code makes the SDK ignore these variables, so the wrapper must read them itself; otherwise
/// adding error-forced export to an app sampled at 10 % by <c>OTEL_TRACES_SAMPLER=parentbased_traceidratio</c>
/// would quietly export every span. Values as in the specification:
/// https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration.
/// </remarks>
internal static class ConfiguredSampler
{
    public const string SamplerKey = "OTEL_TRACES_SAMPLER";

    public const string SamplerArgKey = "OTEL_TRACES_SAMPLER_ARG";

    public static Sampler Create(IConfiguration? configuration)
    {
        var name = configuration?[SamplerKey]?.Trim();
        return name?.ToUpperInvariant() switch
        {
            "ALWAYS_ON" => new AlwaysOnSampler(),
            "ALWAYS_OFF" => new AlwaysOffSampler(),
            "TRACEIDRATIO" => new TraceIdRatioBasedSampler(Ratio(configuration)),
            "PARENTBASED_ALWAYS_OFF" => new ParentBasedSampler(new AlwaysOffSampler()),
            "PARENTBASED_TRACEIDRATIO" => new ParentBasedSampler(new TraceIdRatioBasedSampler(Ratio(configuration))),

            // Unset, "parentbased_always_on", or a value the SDK does not know either: the SDK's own default.
            _ => new ParentBasedSampler(new AlwaysOnSampler()),
        };
    }

    // Like the SDK: a missing or invalid ratio means 1.0.
    private static double Ratio(IConfiguration? configuration) =>
        double.TryParse(configuration?[SamplerArgKey], NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0.0 and <= 1.0
            ? ratio
            : 1.0;
}
