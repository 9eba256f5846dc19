namespace TraceProf.AspNetCore.Tests.OpenTelemetry;

/// <summary>
/// A tracer provider listens to every "Microsoft.AspNetCore" source in the process, so hosts with one run alone:
/// they would otherwise record, and change the sampling of, other tests' requests.
/// </summary>
[CollectionDefinition("OpenTelemetry", DisableParallelization = true)]
public sealed class OpenTelemetryTests;
