using System.Diagnostics;
using OpenTelemetry;

namespace TraceProf.AspNetCore.OpenTelemetry;

/// <summary>
/// Tells the <see cref="AdaptiveSampler"/> how each local root span ended (duration, and failed as error-forced export
/// defines it), for the error-rate and latency boosts. Runs for every span the SDK records: the sampled ones, and
/// with error-forced export also the ones recorded only in-process.
/// </summary>
internal sealed class AdaptiveSamplingProcessor(AdaptiveSampler sampler) : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Parent is null)
        {
            sampler.ObserveEnd(data.Duration, ErrorForcingProcessor.EndedInError(data));
        }
    }
}
