using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Contract;

public sealed class SqliteContractTests : SnapshotStoreContractTests
{
    private readonly List<SqliteSnapshotStore> _stores = [];

    protected override ISnapshotStore Open(SnapshotStoreOptions limits)
    {
        var store = new SqliteSnapshotStore(limits, Time);
        _stores.Add(store);
        return store;
    }

    protected override void DisposeStores() => _stores.ForEach(s => s.Dispose());
}
