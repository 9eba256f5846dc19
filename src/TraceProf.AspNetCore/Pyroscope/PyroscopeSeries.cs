using TraceProf.Profiles;

namespace TraceProf.AspNetCore.Pyroscope;

/// <summary>One profile pushed to Pyroscope: its series labels (with <c>__name__</c>) and its pprof bytes.</summary>
/// <param name="Name">The profile type name (<c>process_cpu</c>, <c>wall</c>, <c>lock</c>, <c>memory</c>, …).</param>
/// <param name="Labels">The series labels, <c>__name__</c> and <c>service_name</c> included.</param>
/// <param name="Pprof">The gzipped pprof.</param>
/// <param name="Samples">How many samples the profile has (for the log).</param>
internal sealed record PyroscopeSeries(string Name, IReadOnlyList<ProfileLabel> Labels, byte[] Pprof, int Samples);
