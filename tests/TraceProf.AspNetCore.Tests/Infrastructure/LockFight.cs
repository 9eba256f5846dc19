namespace TraceProf.AspNetCore.Tests.Infrastructure;

/// <summary>Two threads take turns on one lock, holding it a millisecond, until disposed: steady contention.</summary>
public sealed class LockFight : IDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _threads;

    public LockFight()
    {
        _threads = [.. Enumerable.Range(0, 2).Select(i => new Thread(Fight) { IsBackground = true, Name = $"lock-fight-{i}" })];
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _stop.Dispose();
    }

    private void Fight()
    {
        while (!_stop.IsCancellationRequested)
        {
            lock (_gate)
            {
                Thread.Sleep(1);
            }
        }
    }
}
