using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TraceProf.AspNetCore.Tests.Infrastructure;

/// <summary>The sample app, built with the solution, running as a real process on a loopback port.</summary>
public sealed class ShopDemoProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ShopDemoProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(1) };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    /// <summary>The built sample, or null when it has not been built (run the solution build).</summary>
    public static string? FindAssembly()
    {
        // tests/TraceProf.AspNetCore.Tests/bin/<Configuration>/net10.0 → samples/ShopDemo/bin/<Configuration>/net10.0
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testBin.Parent!.Name;
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Diagnostics.sln")))
        {
            root = root.Parent;
        }

        var dll = root is null ? null : Path.Combine(root.FullName, "samples", "ShopDemo", "bin", configuration, testBin.Name, "ShopDemo.dll");
        return dll is not null && File.Exists(dll) ? dll : null;
    }

    public static async Task<ShopDemoProcess> StartAsync(string assembly, params string[] arguments)
    {
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(address.ToString());
        info.ArgumentList.Add("--ShopDemo:SimulateShoppers=false");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = new ShopDemoProcess(process, address);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await started.Client.GetAsync(new Uri("/", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return started;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(200);
                continue;
            }

            await started.DisposeAsync();
            throw new InvalidOperationException($"ShopDemo did not start on {address}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
