namespace TraceProf.AspNetCore.Tests.Infrastructure;

/// <summary>Allocates steadily on a dedicated thread until disposed, so an allocation capture always has samples.</summary>
public sealed class AllocationChurn : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public AllocationChurn()
    {
        _thread = new Thread(() =>
        {
            object? keep = null;
            while (!_stop.IsCancellationRequested)
            {
                // About 1 MB per loop: ten sampling points on average.
                for (var i = 0; i < 1024; i++)
                {
                    keep = new byte[1024];
                }

                Thread.Sleep(1);
            }

            GC.KeepAlive(keep);
        })
        { IsBackground = true, Name = "allocation-churn" };
        _thread.Start();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}
