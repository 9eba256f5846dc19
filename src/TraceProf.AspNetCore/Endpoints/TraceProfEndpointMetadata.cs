namespace TraceProf.AspNetCore.Endpoints;

/// <summary>Marks an endpoint as TraceProf's, with a one-line description.</summary>
internal sealed record TraceProfEndpointMetadata(string Description);
