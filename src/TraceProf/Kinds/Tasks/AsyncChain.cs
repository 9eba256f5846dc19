namespace TraceProf.Kinds.Tasks;

/// <summary>One pending async call chain found in a heap snapshot.</summary>
/// <param name="Methods">The async methods, innermost (the one awaiting <paramref name="Awaits"/>) first, as frame names.</param>
/// <param name="StateMachines">The state machines' runtime type names, parallel to <paramref name="Methods"/>.</param>
/// <param name="Awaits">What the innermost method awaits (<c>TaskCompletionSource</c>, <c>Task.Delay</c>, …), or null when unknown.</param>
/// <param name="RequestMarker">The index of the in-flight request whose activity the chain's execution context holds, or -1.</param>
internal sealed record AsyncChain(IReadOnlyList<string> Methods, IReadOnlyList<string> StateMachines, string? Awaits, int RequestMarker);
