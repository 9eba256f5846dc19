using TraceProf.Capture;
using TraceProf.Kinds;

namespace TraceProf.Tests.Parsing;

/// <summary>One real capture of <see cref="PricingEngine"/> on three tasks for 1.5 s, shared by a test class.</summary>
public sealed class NamingCapture : IDisposable
{
    public NamingCapture()
    {
        Folder = new TempFolder();
        using var stop = new CancellationTokenSource();
        var engine = new PricingEngine();
        var workers = Enumerable.Range(0, 3).Select(_ => Task.Run(() => engine.CheckoutAsync(stop.Token))).ToArray();
        NettracePath = new EventPipeCaptureSource()
            .CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(1.5), Folder.File("names.nettrace"), CancellationToken.None)
            .GetAwaiter().GetResult().NettracePath;
        stop.Cancel();
        Task.WaitAll(workers);
    }

    public TempFolder Folder { get; }

    public string NettracePath { get; }

    public void Dispose() => Folder.Dispose();
}
