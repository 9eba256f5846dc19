using TraceProf.Capture;
using TraceProf.Kinds;

namespace TraceProf.Tests.Parsing;

/// <summary>
/// One real capture of <see cref="PricingEngine"/> on three tasks for 1.5 s, shared by a test class; beside them a
/// thread named like TraceProf's own (<see cref="OwnThreadName"/>) burns too, and stays alive (parked) until
/// disposed so its name can still be read after the capture.
/// </summary>
public sealed class NamingCapture : IDisposable
{
    public const string OwnThreadName = "TraceProf test";

    private readonly ManualResetEventSlim _release = new();
    private readonly Thread _own;

    public NamingCapture()
    {
        Folder = new TempFolder();
        using var stop = new CancellationTokenSource();
        var engine = new PricingEngine();
        var workers = Enumerable.Range(0, 3).Select(_ => Task.Run(() => engine.CheckoutAsync(stop.Token))).ToArray();
        _own = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                PricingEngine.Sink = PricingEngine.Burn(3);
            }

            _release.Wait();
        })
        { IsBackground = true, Name = OwnThreadName };
        _own.Start();
        NettracePath = new EventPipeCaptureSource()
            .CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(1.5), Folder.File("names.nettrace"), CancellationToken.None)
            .GetAwaiter().GetResult().NettracePath;
        stop.Cancel();
        Task.WaitAll(workers);
    }

    public TempFolder Folder { get; }

    public string NettracePath { get; }

    public void Dispose()
    {
        _release.Set();
        _own.Join();
        _release.Dispose();
        Folder.Dispose();
    }
}
