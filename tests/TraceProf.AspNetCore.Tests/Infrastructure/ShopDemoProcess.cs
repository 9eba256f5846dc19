using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TraceProf.AspNetCore.Tests.Infrastructure;

/// <summary>The sample app, built with the solution, running as a real process on a loopback port.</summary>
public sealed class ShopDemoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ShopDemoProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(1) };
    }

    public Uri Address { get; }

    /// <summary>Gets the process id (the <c>dotnet</c> host runs the app in its own process).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Gets what the process wrote to stdout and stderr so far (its console log).</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    public HttpClient Client { get; }

    /// <summary>The built sample (the test project builds it), or null when it is missing.</summary>
    public static string? FindAssembly()
    {
        // tests/TraceProf.AspNetCore.Tests/bin/<Configuration>/net10.0 → samples/ShopDemo/bin/<Configuration>/net10.0
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var dll = Path.Combine(RepositoryRoot(), "samples", "ShopDemo", "bin", testBin.Parent!.Name, testBin.Name, "ShopDemo.dll");
        return File.Exists(dll) ? dll : null;
    }

    /// <summary>The folder holding Diagnostics.sln, found upwards from the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Diagnostics.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException($"No Diagnostics.sln above {AppContext.BaseDirectory}.");
    }

    public static Task<ShopDemoProcess> StartAsync(string assembly, params string[] arguments) =>
        StartAsync(assembly, new Dictionary<string, string>(), arguments);

    public static async Task<ShopDemoProcess> StartAsync(string assembly, IReadOnlyDictionary<string, string> environment, params string[] arguments)
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

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        var started = new ShopDemoProcess(process, address);
        process.OutputDataReceived += (_, e) => started.Append(e.Data);
        process.ErrorDataReceived += (_, e) => started.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
