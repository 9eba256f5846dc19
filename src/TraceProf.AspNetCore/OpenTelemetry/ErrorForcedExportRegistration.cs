using OpenTelemetry.Trace;

namespace TraceProf.AspNetCore.OpenTelemetry;

/// <summary>Says that error-forced export was added, and with which sampler (null: the SDK's own choice).</summary>
/// <param name="Inner">The sampler passed to <c>AddTraceProfErrorForcedExport(Sampler)</c>, or null.</param>
internal sealed record ErrorForcedExportRegistration(Sampler? Inner);
