namespace TraceProf.AspNetCore.Security;

/// <summary>The gate's answer: allowed with a role and its proof, or a status code with a detail for the problem.</summary>
internal readonly record struct GateDecision(int StatusCode, string? Detail, string? Role, string? Proof)
{
    public bool Allowed => StatusCode == 0;

    public static GateDecision Allow(string role, string proof) => new(0, null, role, proof);

    public static GateDecision Deny(int statusCode, string detail) => new(statusCode, detail, null, null);
}
