namespace TraceProf.Profiles;

/// <summary>One resolved stack frame: a managed method (or a placeholder for an unresolved address).</summary>
/// <param name="FunctionName">The method as <c>Namespace.Type.Method</c>, possibly with a parameter list.</param>
/// <param name="ModuleName">The module (assembly) that holds it; empty when unknown.</param>
public sealed record ProfileFrame(string FunctionName, string ModuleName);
