using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Storage;

/// <summary>Issue 16, fault 7: a process killed mid-capture leaves its nettrace; the next start sweeps it.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class TempFolderTests
{
    [SkippableFact]
    public async Task KilledMidCapture_LeavesItsNettrace_TheNextStartDeletesIt()
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        var temp = Path.Combine(folder, "tmp");
        try
        {
            string leaked;
            await using (var shop = await ShopDemoProcess.StartAsync(assembly!, $"--TraceProf:Storage:Path={folder}", "--TraceProf:FlightRecorder:Enabled=false"))
            {
                var capture = shop.Client.SendAsync(Requests.Get("/debug/pprof/profile?seconds=60", "admin"));
                leaked = await WaitForAsync(() => Directory.Exists(temp) ? Directory.GetFiles(temp, "*.nettrace.tmp").FirstOrDefault() : null);

                // SIGKILL: no finally block of the capture runs.
                using (var process = System.Diagnostics.Process.GetProcessById(shop.ProcessId))
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }

                await Assert.ThrowsAnyAsync<Exception>(() => capture);
            }

            Assert.True(File.Exists(leaked), "the killed capture left its file");

            // The sweep spares files younger than ten minutes (another process's capture in flight); age this one
            // as if the restart came a quarter of an hour later.
            File.SetLastWriteTimeUtc(leaked, DateTime.UtcNow - TimeSpan.FromMinutes(15));
            await using (var restarted = await ShopDemoProcess.StartAsync(assembly!, $"--TraceProf:Storage:Path={folder}", "--TraceProf:FlightRecorder:Enabled=false"))
            {
                Assert.False(File.Exists(leaked), "the start swept the abandoned capture");
                Assert.Contains(restarted.Output, line => line.Contains("files of captures that never finished", StringComparison.Ordinal));
            }
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
        }
    }

    private static async Task<string> WaitForAsync(Func<string?> probe)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, "no capture file appeared within a minute");
            await Task.Delay(100);
        }
    }
}
