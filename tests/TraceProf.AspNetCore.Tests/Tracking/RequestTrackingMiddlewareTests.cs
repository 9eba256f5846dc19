using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Triggers;
using TraceProf.Attribution;
using TraceProf.Profiles;

namespace TraceProf.AspNetCore.Tests.Tracking;

/// <summary>
/// The tracking middleware (placed first by AddTraceProf) through a real Kestrel host: while the timeline records it
/// describes each request to it and hands each finished request to the triggers. The timeline is process-wide, so
/// these run in the EventPipe collection, one at a time with the captures that also start it.
/// </summary>
[Collection("EventPipe")]
public sealed class RequestTrackingMiddlewareTests
{
    [Fact]
    public async Task WhileRecording_TheRequestsSpanOnTheTimelineCarriesItsMethodAndRoute()
    {
        var seen = new TaskCompletionSource<(int Thread, long Timestamp, Activity? Activity)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TraceProfHost.StartAsync(configureApp: app =>
            app.MapGet("/orders/{id}", () =>
            {
                seen.TrySetResult((OsThreadId.Current, Stopwatch.GetTimestamp(), Activity.Current));
                return "ok";
            }));

        using var recording = TimelineRecorder.Start();
        var from = Stopwatch.GetTimestamp();
        using var response = await host.Client.GetAsync(new Uri("/orders/42", UriKind.Relative));
        var to = Stopwatch.GetTimestamp();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (thread, timestamp, activity) = await seen.Task;

        Assert.NotNull(activity);
        var description = Assert.IsType<RequestDescription>(activity.GetCustomProperty(RequestDescription.PropertyName));
        Assert.Equal(("GET", "/orders/{id}"), (description.Method, description.Route));

        var labels = TimelineRecorder.Snapshot(from, to).LabelsAt(thread, timestamp);
        Assert.NotNull(labels);
        Assert.Contains(new ProfileLabel(SpanLabels.TraceId, activity.TraceId.ToHexString()), labels);
        Assert.Contains(new ProfileLabel(SpanLabels.HttpMethod, "GET"), labels);
        Assert.Contains(new ProfileLabel(SpanLabels.HttpRoute, "/orders/{id}"), labels);
    }

    [SkippableFact]
    public async Task WhileNotRecording_TheRequestIsLeftAlone()
    {
        Activity? seen = null;
        await using var host = await TraceProfHost.StartAsync(configureApp: app =>
            app.MapGet("/orders/{id}", () =>
            {
                seen = Activity.Current;
                return "ok";
            }));
        Skip.If(TimelineRecorder.IsRecording, "another test in this process is recording the timeline");

        using var response = await host.Client.GetAsync(new Uri("/orders/42", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(seen?.GetCustomProperty(RequestDescription.PropertyName));
    }

    [Fact]
    public async Task WhileRecording_AnUnhandledException_ReachesTheTriggersWithItsRoute_AndStillPropagates()
    {
        await using var host = await TraceProfHost.StartAsync(configureApp: app =>
            app.MapGet("/boom/{id}", string () => throw new InvalidOperationException("boom")));
        var triggers = host.Services.GetRequiredService<RequestTriggers>();
        triggers.IsActive = true; // as the recorder sets it once its session runs; these hosts run no recorder

        using var recording = TimelineRecorder.Start();
        using var response = await host.Client.GetAsync(new Uri("/boom/7", UriKind.Relative));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.True(triggers.Queue.TryRead(out var request), "the failed request was not handed to the triggers");
        Assert.Equal("exception:System.InvalidOperationException", request.Trigger);
        Assert.Equal(("GET", "/boom/{id}"), (request.Method, request.Route));
        Assert.True(request.EndTimestamp > request.StartTimestamp);
    }

    [Fact]
    public async Task WhileRecording_TraceProfsOwnEndpoints_AreNotHandedToTheTriggers()
    {
        await using var host = await TraceProfHost.StartAsync(o => o.FlightRecorder.MinStatusCode = 400);
        var triggers = host.Services.GetRequiredService<RequestTriggers>();
        triggers.IsActive = true;

        using var recording = TimelineRecorder.Start();
        using var ours = await host.Client.SendAsync(Requests.Get("/debug/pprof/nope", "admin"));
        Assert.Equal(HttpStatusCode.NotFound, ours.StatusCode);
        Assert.False(triggers.Queue.TryRead(out _), "a request to TraceProf's own prefix was handed to the triggers");

        // The same status on one of the application's paths is.
        using var theirs = await host.Client.GetAsync(new Uri("/no-such-page", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.True(triggers.Queue.TryRead(out var request));
        Assert.Equal("status:404", request.Trigger);
        Assert.Equal("/no-such-page", request.Route);
    }

    [Fact]
    public async Task WhileRecording_AnExceptionHandler_KeepsTheFailedRequestsRoute()
    {
        // The exception handler clears the endpoint before it runs; its feature keeps the failed one. (A handler given
        // as a path, UseExceptionHandler("/error"), re-runs routing instead, and the route recorded is the error page's.)
        await using var host = await TraceProfHost.StartAsync(configureApp: app =>
        {
            app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                ExceptionHandler = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    return Task.CompletedTask;
                },
            });
            app.MapGet("/boom/{id}", string () => throw new InvalidOperationException("boom"));
        });
        var triggers = host.Services.GetRequiredService<RequestTriggers>();
        triggers.IsActive = true;

        using var recording = TimelineRecorder.Start();
        using var response = await host.Client.GetAsync(new Uri("/boom/7", UriKind.Relative));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.True(triggers.Queue.TryRead(out var request), "the handled failure was not handed to the triggers");
        Assert.Equal("status:500", request.Trigger);
        Assert.Equal("/boom/{id}", request.Route);
    }
}
