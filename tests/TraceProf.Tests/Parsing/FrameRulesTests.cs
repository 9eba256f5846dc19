using TraceProf.Parsing;

namespace TraceProf.Tests.Parsing;

/// <summary>Which real runtime frames (.NET 10, from the captures of <see cref="PricingEngine"/>) are folded by default.</summary>
public sealed class FrameRulesTests
{
    [Theory]
    [InlineData("System.Runtime.CompilerServices.AsyncMethodBuilderCore.Start(!!0&)")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder.Start(!!0&)")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1[System.Double].Start(!!0&)")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1[System.__Canon].Start(!!0&)")]
    [InlineData("System.Runtime.CompilerServices.AsyncVoidMethodBuilder.Start(!!0&)")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Double,System.__Canon].MoveNext()")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Double,System.__Canon].MoveNext(class System.Threading.Thread)")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.__Canon,System.__Canon].ExecutionContextCallback(class System.Object)")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Double,System.__Canon].ExecuteFromThreadPool(class System.Threading.Thread)")]
    [InlineData("System.Threading.ExecutionContext.RunInternal(class System.Threading.ExecutionContext,class System.Threading.ContextCallback,class System.Object)")]
    [InlineData("System.Threading.ExecutionContext.RunFromThreadPoolDispatchLoop(class System.Threading.Thread,class System.Threading.ExecutionContext,class System.Threading.ContextCallback,class System.Object)")]
    [InlineData("System.Threading.ThreadPoolWorkQueue.Dispatch()")]
    [InlineData("System.Threading.Tasks.Task.ExecuteWithThreadLocal(class System.Threading.Tasks.Task&,class System.Threading.Thread)")]
    [InlineData("System.Threading.Tasks.Task`1[System.__Canon].InnerInvoke()")]
    [InlineData("System.Threading.Tasks.Task.RunContinuations(class System.Object)")]
    [InlineData("System.Threading.Tasks.AwaitTaskContinuation.RunOrScheduleAction(class System.Runtime.CompilerServices.IAsyncStateMachineBox,bool)")]
    public void IsAsyncPlumbing_TheRuntimesAsyncAndDispatchFrames(string systemName) =>
        Assert.True(FrameRules.IsAsyncPlumbing(FrameNames.Display(systemName)));

    [Theory]
    // the program's own frames, including its state machines and kick-off methods
    [InlineData("TraceProf.Tests.Parsing.PricingEngine+<QuoteAsync>d__6.MoveNext()")]
    [InlineData("TraceProf.Tests.Parsing.PricingEngine.QuoteAsync(int32)")]
    // the thread's roots say what kind of thread it is, and waits are where time goes: kept
    [InlineData("System.Threading.PortableThreadPool+WorkerThread.WorkerThreadStart()")]
    [InlineData("System.Threading.Thread.StartCallback()")]
    [InlineData("System.Threading.LowLevelLifoSemaphore.WaitForSignal(int32)")]
    [InlineData("System.Runtime.CompilerServices.TaskAwaiter`1[System.__Canon].GetResult()")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1[System.Double].AwaitUnsafeOnCompleted(!!0&,!!1&)")]
    [InlineData("System.Threading.Tasks.Task.Wait()")]
    public void IsAsyncPlumbing_NotTheProgramNorWhereTimeGoes(string systemName) =>
        Assert.False(FrameRules.IsAsyncPlumbing(FrameNames.Display(systemName)));
}
