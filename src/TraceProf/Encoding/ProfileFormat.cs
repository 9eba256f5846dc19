namespace TraceProf.Encoding;

/// <summary>The formats a profile can be served in.</summary>
public enum ProfileFormat
{
    /// <summary>Gzipped <c>profile.proto</c>, read by <c>go tool pprof</c> and Grafana Pyroscope.</summary>
    Pprof,

    /// <summary>speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json).</summary>
    Speedscope,

    /// <summary>Brendan Gregg's folded stacks: one <c>root;…;leaf count</c> line per stack.</summary>
    Folded,

    /// <summary>The raw EventPipe capture, read by PerfView, dotnet-trace and TraceEvent.</summary>
    Nettrace,
}
