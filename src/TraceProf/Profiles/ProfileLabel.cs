namespace TraceProf.Profiles;

/// <summary>A string label on a sample (pprof <c>Label</c> with a string value), such as <c>thread_id</c> or <c>trace_id</c>.</summary>
/// <param name="Key">The label key.</param>
/// <param name="Value">The label value.</param>
public readonly record struct ProfileLabel(string Key, string Value);
