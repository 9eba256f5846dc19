using System.Diagnostics;
using System.Globalization;
using OpenTelemetry;

namespace TraceProf.AspNetCore.OpenTelemetry;

/// <summary>
/// Sets <see cref="ActivityTraceFlags.Recorded"/> on a span that ends in error, so that the export processors after
/// this one export it although head sampling did not sample it (see <see cref="ErrorForcingSampler"/>).
/// </summary>
/// <remarks>
/// Must come before the export processors in the pipeline: <c>BatchActivityExportProcessor</c> and
/// <c>SimpleActivityExportProcessor</c> look at <see cref="Activity.Recorded"/> in their own <c>OnEnd</c> and skip
/// the span if it is not set; a flag set after they ran is too late.
/// </remarks>
internal sealed class ErrorForcingProcessor : BaseProcessor<Activity>
{
    /// <summary>The semantic-convention tag of an HTTP response's status code.</summary>
    public const string StatusCodeTag = "http.response.status_code";

    /// <summary>The semantic-convention name of the event that records an exception on a span.</summary>
    public const string ExceptionEventName = "exception";

    public override void OnEnd(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.Recorded && EndedInError(data))
        {
            data.ActivityTraceFlags |= ActivityTraceFlags.Recorded;
        }
    }

    /// <summary>
    /// Whether the span failed: an error status, an HTTP status code of 500 or more, or a recorded exception.
    /// </summary>
    internal static bool EndedInError(Activity activity)
    {
        if (activity.Status == ActivityStatusCode.Error || IsServerError(activity.GetTagItem(StatusCodeTag)))
        {
            return true;
        }

        foreach (ref readonly var activityEvent in activity.EnumerateEvents())
        {
            if (activityEvent.Name == ExceptionEventName)
            {
                return true;
            }
        }

        return false;
    }

    // Instrumentations set the status code as an int; hand-written spans sometimes use a long or a string.
    private static bool IsServerError(object? statusCode) => statusCode switch
    {
        int code => code >= 500,
        long code => code >= 500,
        short code => code >= 500,
        string text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code >= 500,
        _ => false,
    };
}
