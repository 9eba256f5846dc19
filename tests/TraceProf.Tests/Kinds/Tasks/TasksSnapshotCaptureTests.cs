using System.Diagnostics;
using System.Runtime.CompilerServices;
using TraceProf.Attribution;
using TraceProf.Encoding;
using TraceProf.Kinds.Tasks;
using TraceProf.Profiles;
using Xunit.Abstractions;

namespace TraceProf.Tests.Kinds.Tasks;

/// <summary>A real heap snapshot of this test process finds the async chains pending in it.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class TasksSnapshotCaptureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Snapshot_PendingChainsOnOneGate_AreOneGroupWithBothMethodsInnermostFirst()
    {
        const int n = 25;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = Enumerable.Range(0, n).Select(_ => PileUp.OuterAsync(gate.Task)).ToArray();
        try
        {
            var snapshot = await new TasksSnapshotCapture().CaptureAsync(TasksSnapshotCapture.DefaultMaxChains, CancellationToken.None);
            var text = Text(snapshot.Profile, 1);
            output.WriteLine(text);

            var inner = typeof(PileUp).FullName!.Replace('+', '.') + ".InnerAsync";
            var outer = typeof(PileUp).FullName!.Replace('+', '.') + ".OuterAsync";
            var group = snapshot.Profile.Samples
                .Where(s => s.Stack.Count >= 2 && Name(snapshot.Profile, s, 0) == inner && Name(snapshot.Profile, s, 1) == outer)
                .ToList();
            Assert.Equal(n, group.Sum(s => s.Values[0]));
            Assert.All(group, s => Assert.Contains(s.Labels, l => l.Key == TasksProfileBuilder.AwaitsLabel && l.Value == "TaskCompletionSource"));
            Assert.Contains($"{n} @ awaiting TaskCompletionSource\n#\t{inner}\n#\t{outer}\n", text, StringComparison.Ordinal);
        }
        finally
        {
            gate.SetResult();
            await Task.WhenAll(pending);
        }
    }

    [Fact]
    public async Task Snapshot_DelayAndSemaphore_NameWhatTheInnermostAwaits()
    {
        using var semaphore = new SemaphoreSlim(0);
        using var cancel = new CancellationTokenSource();
        var delay = PileUp.DelayAsync(cancel.Token);
        var wait = PileUp.SemaphoreAsync(semaphore);
        try
        {
            var snapshot = await new TasksSnapshotCapture().CaptureAsync(TasksSnapshotCapture.DefaultMaxChains, CancellationToken.None);
            var text = Text(snapshot.Profile, 1);
            output.WriteLine(text);
            Assert.Matches(@"1 @ awaiting Task\.Delay\n#\t[^\n]*PileUp\.DelayAsync\n", text);
            Assert.Matches(@"1 @ awaiting SemaphoreSlim\.WaitAsync\n#\t[^\n]*PileUp\.SemaphoreAsync\n", text);
        }
        finally
        {
            semaphore.Release();
            await cancel.CancelAsync();
            await wait;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delay);
        }
    }

    [Fact]
    public async Task Snapshot_ChainUnderAnInFlightRequestsActivity_CarriesItsTraceAndRoute()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var description = new RequestDescription("GET") { Route = "/pileup" };
        var entry = InFlightRequests.Add(activity, description, Stopwatch.GetTimestamp());
        Task pending;
        try
        {
            pending = PileUp.OuterAsync(gate.Task);
        }
        finally
        {
            activity.Stop();
        }

        try
        {
            var snapshot = await new TasksSnapshotCapture().CaptureAsync(TasksSnapshotCapture.DefaultMaxChains, CancellationToken.None);
            output.WriteLine(Text(snapshot.Profile, 2));
            var inner = typeof(PileUp).FullName!.Replace('+', '.') + ".InnerAsync";
            var chain = Assert.Single(snapshot.Profile.Samples, s => s.Stack.Count >= 2 && Name(snapshot.Profile, s, 0) == inner);
            Assert.Contains(chain.Labels, l => l.Key == "trace_id" && l.Value == activity.TraceId.ToHexString());
            Assert.Contains(chain.Labels, l => l.Key == "span_id" && l.Value == activity.SpanId.ToHexString());
            Assert.Contains(chain.Labels, l => l.Key == "http.route" && l.Value == "/pileup");
        }
        finally
        {
            InFlightRequests.Remove(entry!);
            gate.SetResult();
            await pending;
        }
    }

    private static string Name(Profile profile, ProfileSample sample, int i) => profile.Frames[sample.Stack[i]].FunctionName;

    private static string Text(Profile profile, int level)
    {
        using var stream = new MemoryStream();
        TasksTextEncoder.Write(profile, stream, level);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static class PileUp
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static async Task OuterAsync(Task gate)
        {
            await InnerAsync(gate);
            await Task.Yield();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static async Task<int> InnerAsync(Task gate)
        {
            await gate;
            return 1;
        }

        public static async Task DelayAsync(CancellationToken cancellationToken) => await Task.Delay(TimeSpan.FromMinutes(5), cancellationToken);

        public static async Task SemaphoreAsync(SemaphoreSlim semaphore) => await semaphore.WaitAsync();
    }
}
