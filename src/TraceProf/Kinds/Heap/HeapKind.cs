using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Heap;

/// <summary>
/// The heap kind: the live heap after one blocking full GC (the runtime's GC heap dump), by the path that retains
/// each object. Unlike the other kinds it is not "record N seconds, then parse": <see cref="HeapSnapshotCapture"/>
/// runs a session that ends with the heap walk and decodes it live, so there is no capture file to parse.
/// </summary>
internal sealed class HeapKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Heap;

    public override string Name => "heap";

    public override long RuntimeKeywords => HeapDumpEvents.HeapSnapshotKeywords;

    public override bool RequestsRundown => false;

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A heap snapshot is decoded live while the runtime walks the heap (HeapSnapshotCapture); it has no capture file to parse.");
}
