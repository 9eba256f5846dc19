using System.Runtime.CompilerServices;

// Shared by both test projects (linked from tests/Shared, see their csproj); the namespace and names stay the
// engine tests' because they assert the frame's full name.
namespace TraceProf.Tests;

/// <summary>Burns CPU in a method with a name no other code has, on a dedicated thread, until disposed.</summary>
public sealed class HotLoop : IDisposable
{
    public const string MethodName = "EngineHotLoop.BurnCpuDistinctively";

    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public HotLoop()
    {
        _thread = new Thread(() => EngineHotLoop.BurnCpuDistinctively(_stop.Token)) { IsBackground = true, Name = "hot-loop" };
        _thread.Start();
    }

    public int ManagedThreadId => _thread.ManagedThreadId;

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}

internal static class EngineHotLoop
{
    public static double Sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BurnCpuDistinctively(CancellationToken stop)
    {
        var x = 0.0;
        while (!stop.IsCancellationRequested)
        {
            for (var i = 1; i < 200_000; i++)
            {
                x += Math.Sqrt(i) / i;
            }
        }

        Sink = x;
    }
}
