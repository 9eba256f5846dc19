using TraceProf.Kinds.Heap;
using TraceProf.Profiles;

namespace TraceProf.Tests.Kinds.Heap;

/// <summary>Reading heap profiles in tests.</summary>
internal static class HeapProfiles
{
    public const int Objects = 0;
    public const int Space = 1;

    /// <summary>Sum of a column over the samples whose leaf (the object's type) is <paramref name="type"/>.</summary>
    public static long Leaf(Profile profile, string type, int column) =>
        profile.Samples.Where(s => profile.Frames[s.Stack[0]].FunctionName == type).Sum(s => s.Values[column]);

    /// <summary>The retention paths (root first) of the samples whose leaf is <paramref name="type"/>.</summary>
    public static IReadOnlyList<string[]> Paths(Profile profile, string type) =>
        [.. profile.Samples
            .Where(s => profile.Frames[s.Stack[0]].FunctionName == type)
            .Select(s => s.Stack.Reverse().Select(f => profile.Frames[f].FunctionName).ToArray())];

    public static string Describe(HeapSnapshot snapshot) => string.Join('\n', snapshot.Profile.Comments);
}
