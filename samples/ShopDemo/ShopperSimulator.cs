using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ShopDemo;

/// <summary>
/// Simulated customers calling the shop's own API, so a profile taken from the demo shows real work.
/// Turn off with <c>ShopDemo:SimulateShoppers=false</c>.
/// </summary>
public sealed partial class ShopperSimulator(HttpClient http, IServer server, IConfiguration configuration, ILogger<ShopperSimulator> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue("ShopDemo:SimulateShoppers", true))
        {
            return;
        }

        // Wait until Kestrel has bound its addresses.
        await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null)
        {
            return;
        }

        http.BaseAddress = new Uri(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal));
        LogStarted(logger, http.BaseAddress);

        // A few shoppers at once, so that orders meet at the inventory lock.
        await Task.WhenAll(Enumerable.Range(0, Shoppers).Select(_ => ShopAsync(stoppingToken)));
    }

    private const int Shoppers = 3;

    private async Task ShopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var quote = await http.GetAsync(new Uri($"/orders/quote?items={Random.Shared.Next(10, 60)}", UriKind.Relative), stoppingToken);
                using var order = await http.PostAsync(new Uri($"/orders?items={Random.Shared.Next(1, 10)}", UriKind.Relative), null, stoppingToken);
                await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Simulated shoppers are calling {Address}")]
    private static partial void LogStarted(ILogger logger, Uri address);
}
