using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace TraceProf.AspNetCore.OpenTelemetry;

/// <summary>
/// The one sampler both <c>AddTraceProfAdaptiveSampling</c> and <c>AddTraceProfErrorForcedExport</c> set, whichever
/// is called last: the adaptive sampler if it was added, else the sampler error-forced export was given, else the
/// one the SDK would choose by itself; wrapped by error forcing if that was added. Each call registers what it adds
/// in the provider's services and sets this composition, so the two compose in either order.
/// </summary>
internal static class TraceProfSamplers
{
    public static Sampler Compose(IServiceProvider services)
    {
        var adaptive = services.GetService<AdaptiveSampler>();
        var forcing = services.GetService<ErrorForcedExportRegistration>();
        if (adaptive is not null && forcing?.Inner is not null)
        {
            throw new InvalidOperationException(
                "AddTraceProfAdaptiveSampling chooses the sampler, and AddTraceProfErrorForcedExport was given another one. " +
                "Call AddTraceProfErrorForcedExport() without a sampler to export the failed requests the adaptive sampler dropped.");
        }

        Sampler inner = adaptive ?? forcing?.Inner ?? ConfiguredSampler.Create(services.GetService<IConfiguration>());
        return forcing is null ? inner : new ErrorForcingSampler(inner);
    }
}
