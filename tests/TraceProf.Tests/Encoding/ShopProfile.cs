using TraceProf.Profiles;

namespace TraceProf.Tests.Encoding;

/// <summary>
/// A small CPU profile of an imaginary shop: <see cref="HotMethod"/> is the leaf of two busy request stacks and
/// dominates cpu, while <see cref="BlockedMethod"/> waits (wall only) and dominates wall.
/// </summary>
internal static class ShopProfile
{
    public const string HotMethod = "Shop.Pricing.ComputeTotals";
    public const string BlockedMethod = "System.Threading.Monitor.Wait";
    public const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    public const string OtherTraceId = "0af7651916cd43dd8448eb211c80319c";
    public const long Period = 10_000_000;

    public static readonly DateTimeOffset StartTime = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(5);

    public static readonly ProfileFrame Hot = new(HotMethod, "Shop.dll");
    public static readonly ProfileFrame PlaceOrder = new("Shop.Checkout.PlaceOrder", "Shop.dll");
    public static readonly ProfileFrame OrdersPost = new("Shop.Api.OrdersController.Post", "Shop.Api.dll");
    public static readonly ProfileFrame CartRefresh = new("Shop.Cart.Refresh", "Shop.dll");
    public static readonly ProfileFrame CartGet = new("Shop.Api.CartController.Get", "Shop.Api.dll");
    public static readonly ProfileFrame Serialize = new("System.Text.Json.JsonSerializer.Serialize", "System.Text.Json.dll");
    public static readonly ProfileFrame Blocked = new(BlockedMethod, "System.Private.CoreLib.dll");
    public static readonly ProfileFrame WorkerRun = new("Shop.Background.Worker.Run", "Shop.dll");
    public static readonly ProfileFrame Host = new("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol.ProcessRequests", "Microsoft.AspNetCore.Server.Kestrel.Core.dll");

    /// <summary>Stacks, leaf first, as the model keeps them.</summary>
    public static readonly ProfileFrame[] OrderStack = [Hot, PlaceOrder, OrdersPost, Host];
    public static readonly ProfileFrame[] CartStack = [Hot, CartRefresh, CartGet, Host];
    public static readonly ProfileFrame[] SerializeStack = [Serialize, OrdersPost, Host];
    public static readonly ProfileFrame[] WaitStack = [Blocked, WorkerRun];

    public static ProfileBuilder NewBuilder() => new(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex)
    {
        PeriodType = WellKnownSampleTypes.Cpu,
        Period = Period,
        StartTime = StartTime,
        Duration = Duration,
    };

    /// <summary>Values for samples/cpu/wall: <paramref name="running"/> ticks on cpu out of <paramref name="ticks"/>.</summary>
    public static long[] Ticks(long ticks, long running) => [ticks, running * Period, ticks * Period];

    public static ProfileLabel[] Labels(int threadId, string traceId = TraceId) =>
        [new("thread_id", threadId.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("capture_trace_id", traceId)];

    /// <summary>
    /// cpu: ComputeTotals 80 ticks (50 via orders on two threads, 30 via cart), Serialize 10, Monitor.Wait 0.
    /// wall: Monitor.Wait 200 ticks, ComputeTotals 80, Serialize 10.
    /// </summary>
    public static Profile Build()
    {
        var builder = NewBuilder();
        builder.AddComment("captured by TraceProf tests");
        builder.AddComment("period: 10ms");
        builder.Add(OrderStack, Ticks(30, 30), Labels(11));
        builder.Add(OrderStack, Ticks(20, 20), Labels(12));
        builder.Add(CartStack, Ticks(30, 30), Labels(11));
        builder.Add(SerializeStack, Ticks(10, 10), Labels(12));
        builder.Add(WaitStack, Ticks(200, 0), Labels(13));
        return builder.Build();
    }

    public static int FrameIndex(Profile profile, string functionName)
    {
        for (var i = 0; i < profile.Frames.Count; i++)
        {
            if (profile.Frames[i].FunctionName == functionName)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"No frame named {functionName}.");
    }
}
