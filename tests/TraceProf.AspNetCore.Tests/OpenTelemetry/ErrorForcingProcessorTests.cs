using System.Diagnostics;
using TraceProf.AspNetCore.OpenTelemetry;

namespace TraceProf.AspNetCore.Tests.OpenTelemetry;

/// <summary>Which ended spans the processor flags for export.</summary>
public sealed class ErrorForcingProcessorTests
{
    [Fact]
    public void Processor_ErrorStatus_SetsRecorded()
    {
        using var activity = Ended(a => a.SetStatus(ActivityStatusCode.Error, "boom"));

        Assert.True(activity.Recorded);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(504L)]
    [InlineData("502")]
    public void Processor_ServerErrorStatusCode_SetsRecorded(object statusCode)
    {
        using var activity = Ended(a => a.SetTag(ErrorForcingProcessor.StatusCodeTag, statusCode));

        Assert.True(activity.Recorded);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(404)]
    [InlineData(499)]
    [InlineData("5xx")]
    public void Processor_OtherStatusCode_LeavesRecordedUnset(object statusCode)
    {
        using var activity = Ended(a => a.SetTag(ErrorForcingProcessor.StatusCodeTag, statusCode));

        Assert.False(activity.Recorded);
    }

    [Fact]
    public void Processor_ExceptionEvent_SetsRecorded()
    {
        using var activity = Ended(a => a.AddEvent(new ActivityEvent("cache.miss")).AddEvent(new ActivityEvent(ErrorForcingProcessor.ExceptionEventName)));

        Assert.True(activity.Recorded);
    }

    [Fact]
    public void Processor_SuccessfulSpan_LeavesRecordedUnset()
    {
        using var activity = Ended(a => a.SetStatus(ActivityStatusCode.Ok).SetTag(ErrorForcingProcessor.StatusCodeTag, 200).AddEvent(new ActivityEvent("cache.miss")));

        Assert.False(activity.Recorded);
    }

    [Fact]
    public void Processor_FailedSpan_KeepsItsIdentity()
    {
        using var activity = new Activity("GET /fail").SetIdFormat(ActivityIdFormat.W3C).Start();
        var (traceId, spanId) = (activity.TraceId, activity.SpanId);
        activity.SetStatus(ActivityStatusCode.Error).Stop();

        using var processor = new ErrorForcingProcessor();
        processor.OnEnd(activity);

        Assert.Equal((traceId, spanId), (activity.TraceId, activity.SpanId));
    }

    // A span that head sampling did not sample: Recorded is unset until the processor decides.
    private static Activity Ended(Action<Activity> fill)
    {
        var activity = new Activity("GET /").SetIdFormat(ActivityIdFormat.W3C).Start();
        fill(activity);
        activity.Stop();
        Assert.False(activity.Recorded);
        using var processor = new ErrorForcingProcessor();
        processor.OnEnd(activity);
        return activity;
    }
}
