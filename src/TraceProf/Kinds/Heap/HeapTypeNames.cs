namespace TraceProf.Kinds.Heap;

/// <summary>Type names as people read them in a retention path.</summary>
internal static class HeapTypeNames
{
    /// <summary>The runtime's name of a type, tidied for display.</summary>
    public static string Display(string runtimeName) => runtimeName;

    /// <summary><c>System.Collections.Generic.List`1</c> → <c>System.Collections.Generic.List</c>.</summary>
    public static string WithoutArity(string name)
    {
        var tick = name.LastIndexOf('`');
        return tick > 0 && tick > name.LastIndexOf('.') ? name[..tick] : name;
    }
}
