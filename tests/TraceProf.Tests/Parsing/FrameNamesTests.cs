using TraceProf.Parsing;

namespace TraceProf.Tests.Parsing;

/// <summary>
/// Display names of runtime method names. The left column is copied from real captures (this test project's
/// <see cref="PricingEngine"/>, the test host, CoreLib on .NET 10; the sample for the ones marked so).
/// </summary>
public sealed class FrameNamesTests
{
    [Theory]
    // async state machines: the method they were written as
    [InlineData("TraceProf.Tests.Parsing.PricingEngine+<QuoteAsync>d__6.MoveNext()", "TraceProf.Tests.Parsing.PricingEngine.QuoteAsync")]
    [InlineData("TraceProf.Tests.Parsing.PricingEngine+<CheckoutAsync>d__5.MoveNext()", "TraceProf.Tests.Parsing.PricingEngine.CheckoutAsync")]
    [InlineData("TraceProf.Capture.EventPipeCaptureSource+<StartSessionAsync>d__8.MoveNext()", "TraceProf.Capture.EventPipeCaptureSource.StartSessionAsync")]
    [InlineData("Xunit.Sdk.TestClassRunner`1+<RunAsync>d__37[System.__Canon].MoveNext()", "Xunit.Sdk.TestClassRunner<T>.RunAsync")]
    // a generic async method's state machine is generic itself; a generic method shows no arity
    [InlineData("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol+<ProcessRequests>d__237`1[System.__Canon].MoveNext()", "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol.ProcessRequests")]
    [InlineData("TraceProf.Tests.Parsing.PricingEngine+<QuoteGenericAsync>d__7`1[System.Int32].MoveNext()", "TraceProf.Tests.Parsing.PricingEngine.QuoteGenericAsync")]
    [InlineData("Microsoft.AspNetCore.Http.RequestDelegateFactory+<ExecuteTaskResult>d__144`1[System.__Canon].MoveNext()", "Microsoft.AspNetCore.Http.RequestDelegateFactory.ExecuteTaskResult")]
    [InlineData("Microsoft.AspNetCore.Http.HttpResponseJsonExtensions+<<WriteAsJsonAsync>g__WriteAsJsonAsyncSlow|5_0>d`1[System.__Canon].MoveNext()", "Microsoft.AspNetCore.Http.HttpResponseJsonExtensions.WriteAsJsonAsync.WriteAsJsonAsyncSlow")]
    [InlineData("TraceProf.Tests.Parsing.PriceList`1+<RecalculateAsync>d__2`1[System.__Canon,System.Int32].MoveNext()", "TraceProf.Tests.Parsing.PriceList<T>.RecalculateAsync")]
    // a generic method's lambda cache class (<>c__12`1) is a closure class too
    [InlineData("System.Linq.Enumerable+<>c__40`1[System.__Canon].<Where>b__40_0(!0)", "System.Linq.Enumerable.Where.lambda")]
    // the kick-off method keeps its name, without the parameter list
    [InlineData("TraceProf.Tests.Parsing.PricingEngine.QuoteAsync(int32)", "TraceProf.Tests.Parsing.PricingEngine.QuoteAsync")]
    // iterator
    [InlineData("TraceProf.Tests.Parsing.PricingEngine+<Prices>d__7.MoveNext()", "TraceProf.Tests.Parsing.PricingEngine.Prices")]
    // lambdas: the enclosing method + .lambda, closure classes gone
    [InlineData("TraceProf.Tests.Parsing.PricingEngine+<>c.<WithLambda>b__8_0(int32)", "TraceProf.Tests.Parsing.PricingEngine.WithLambda.lambda")]
    [InlineData("TraceProf.Capture.EventPipeCaptureSource+<>c__DisplayClass6_0.<CaptureAsync>b__0()", "TraceProf.Capture.EventPipeCaptureSource.CaptureAsync.lambda")]
    [InlineData("Microsoft.VisualStudio.TestPlatform.Utilities.JobQueue`1[System.__Canon].<.ctor>b__16_0()", "Microsoft.VisualStudio.TestPlatform.Utilities.JobQueue<T>..ctor.lambda")]
    // an async lambda's state machine
    [InlineData("Xunit.Runner.VisualStudio.VsTestRunner+<>c__DisplayClass34_0+<<RunTestsInAssemblyAsync>b__0>d.MoveNext()", "Xunit.Runner.VisualStudio.VsTestRunner.RunTestsInAssemblyAsync.lambda")]
    // top-level statements (issue 17's sample)
    [InlineData("Program+<>c.<<Main>$>b__0_11(class Microsoft.AspNetCore.Http.HttpContext)", "Program.<Main>$.lambda")]
    [InlineData("Program+<>c+<<<Main>$>b__0_11>d.MoveNext()", "Program.<Main>$.lambda")]
    // local function: the enclosing method + its name
    [InlineData("TraceProf.Tests.Parsing.PricingEngine.<WithLocalFunction>g__Discount|9_0(int32)", "TraceProf.Tests.Parsing.PricingEngine.WithLocalFunction.Discount")]
    [InlineData("System.Threading.Thread.<PollGC>g__PollGCWorker|73_0()", "System.Threading.Thread.PollGC.PollGCWorker")]
    // generics: arity, not instantiation
    [InlineData("TraceProf.Tests.Parsing.PriceList`1[System.__Canon].Add(!0)", "TraceProf.Tests.Parsing.PriceList<T>.Add")]
    [InlineData("System.Collections.Generic.Dictionary`2[System.Int32,System.Diagnostics.Tracing.EventSource+EventMetadata].get_Item(!0)", "System.Collections.Generic.Dictionary<T1,T2>.get_Item")]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Double,System.__Canon].ExecutionContextCallback(class System.Object)", "System.Runtime.CompilerServices.AsyncTaskMethodBuilder<T>.AsyncStateMachineBox<T>.ExecutionContextCallback")]
    [InlineData("System.Runtime.CompilerServices.AsyncMethodBuilderCore.Start(!!0&)", "System.Runtime.CompilerServices.AsyncMethodBuilderCore.Start")]
    [InlineData("TraceProf.Tests.Parsing.PricingEngine.Sum(!!0)", "TraceProf.Tests.Parsing.PricingEngine.Sum")]
    // expression trees: no counter (and no address from the signature)
    [InlineData("dynamicClass.lambda_method5(pMT: 0x7f55a7a7d495,class System.Runtime.CompilerServices.Closure)", "dynamicClass.lambda_method")]
    // nested types, constructors, explicit interface implementations, as C# writes them
    [InlineData("Interop+Sys.Poll(class System.Runtime.InteropServices.SafeHandle,value class PollEvents,int32,value class PollEvents&)", "Interop.Sys.Poll")]
    [InlineData("TraceProf.Tests.Parsing.NamingCapture..ctor()", "TraceProf.Tests.Parsing.NamingCapture..ctor")]
    [InlineData("System.Net.Sockets.SocketAsyncEngine.System.Threading.IThreadPoolWorkItem.Execute()", "System.Net.Sockets.SocketAsyncEngine.System.Threading.IThreadPoolWorkItem.Execute")]
    [InlineData("System.Threading.PortableThreadPool+WorkerThread.WorkerThreadStart()", "System.Threading.PortableThreadPool.WorkerThread.WorkerThreadStart")]
    // placeholders stay as they are
    [InlineData("?!0x7f34a74cd495", "?!0x7f34a74cd495")]
    [InlineData("libcoreclr!0x7f34a74cd495", "libcoreclr!0x7f34a74cd495")]
    // ready-to-run code named from its image (ReadyToRunMethods) reads like any managed frame
    [InlineData("Interop+Sys.WaitForSocketEvents(native int,value class Interop+Sys+SocketEvent*,int32*)", "Interop.Sys.WaitForSocketEvents")]
    public void Display_NamesTheMethodAsWritten(string systemName, string expected) =>
        Assert.Equal(expected, FrameNames.Display(systemName));

    [Theory]
    [InlineData("TraceProf.Tests.Parsing.PricingEngine+<QuoteAsync>d__6.MoveNext()", true)]
    [InlineData("Xunit.Sdk.TestClassRunner`1+<RunAsync>d__37[System.__Canon].MoveNext()", true)]
    [InlineData("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol+<ProcessRequests>d__237`1[System.__Canon].MoveNext()", true)]
    [InlineData("Program+<>c+<<<Main>$>b__0_11>d.MoveNext()", true)]
    [InlineData("TraceProf.Tests.Parsing.PricingEngine.QuoteAsync(int32)", false)]
    [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Double,System.__Canon].MoveNext()", false)]
    public void IsStateMachineMoveNext_OnlyForCompilerMadeStateMachines(string systemName, bool expected) =>
        Assert.Equal(expected, FrameNames.IsStateMachineMoveNext(systemName));
}
