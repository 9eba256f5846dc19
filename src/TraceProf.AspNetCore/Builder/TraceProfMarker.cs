namespace TraceProf.AspNetCore.Builder;

/// <summary>Registered by <c>AddTraceProf</c>; remembers whether <c>MapTraceProf</c> placed the endpoints.</summary>
internal sealed class TraceProfMarker
{
    public bool MappedByEndpointRouting { get; set; }
}
