using TraceProf.Profiles;

namespace TraceProf.Recording;

/// <summary>The profiles cut from the flight recorder for one request's time span.</summary>
/// <param name="Cpu">The CPU profile (samples, cpu, wall), or null when CPU is not recorded.</param>
/// <param name="Contention">The contention profile, or null when contention is not recorded or nobody waited.</param>
/// <param name="TraceSamples">How many CPU samples belong to the request's trace.</param>
/// <param name="Allocations">The allocation profile, or null when allocations are not recorded or none was sampled.</param>
/// <param name="Block">
/// The block profile (lock contention plus wait-handle waits, kind <c>block</c>), or null when waits are not recorded or
/// nothing blocked in the span.
/// </param>
/// <param name="Exceptions">The exceptions profile (kind <c>exceptions</c>), or null when exceptions are not recorded or none was thrown.</param>
internal sealed record FlightRecorderSlice(Profile? Cpu, Profile? Contention, long TraceSamples, Profile? Allocations = null, Profile? Block = null, Profile? Exceptions = null);
