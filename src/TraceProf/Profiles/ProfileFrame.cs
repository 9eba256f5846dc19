namespace TraceProf.Profiles;

/// <summary>One resolved stack frame: a managed method (or a placeholder for an unresolved address).</summary>
/// <param name="FunctionName">
/// The method as a person recognizes it, <c>Namespace.Type.Method</c> without a parameter list (an async method's
/// state machine is named after the method, a lambda after its enclosing method); pprof's <c>Function.name</c>.
/// </param>
/// <param name="ModuleName">The module (assembly) that holds it; empty when unknown.</param>
public sealed record ProfileFrame(string FunctionName, string ModuleName)
{
    /// <summary>
    /// Gets the runtime's full name of the method, with its instantiation and parameter list
    /// (<c>Ns.Type+&lt;QuoteAsync&gt;d__6.MoveNext()</c>); pprof's <c>Function.system_name</c>. Empty when it is the
    /// same as <see cref="FunctionName"/>. Default value: empty.
    /// </summary>
    public string SystemName { get; init; } = "";

    /// <summary>
    /// Gets the source file of the sampled instruction, as the module's portable PDB names it; pprof's
    /// <c>Function.filename</c>. Empty when unknown (no PDB, or not managed code). Default value: empty.
    /// </summary>
    public string SourceFile { get; init; } = "";

    /// <summary>Gets the 1-based source line in <see cref="SourceFile"/>; pprof's <c>Line.line</c>. 0 when unknown. Default value: 0.</summary>
    public int SourceLine { get; init; }
}
