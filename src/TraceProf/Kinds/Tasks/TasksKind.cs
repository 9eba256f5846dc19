using TraceProf.Attribution;
using TraceProf.Kinds.Heap;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Tasks;

/// <summary>
/// The tasks kind: the pending async call chains of the process (the async counterpart of Go's goroutine profile),
/// read from a heap snapshot's object graph (<see cref="TasksSnapshotCapture"/>); like the heap kind it has no
/// capture file to parse.
/// </summary>
internal sealed class TasksKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Tasks;

    public override string Name => "tasks";

    public override long RuntimeKeywords => HeapDumpEvents.HeapSnapshotKeywords;

    public override bool RequestsRundown => false;

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A tasks profile is read from a heap snapshot's object graph (TasksSnapshotCapture); it has no capture file to parse.");
}
