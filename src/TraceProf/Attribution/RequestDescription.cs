using System.Diagnostics;

namespace TraceProf.Attribution;

/// <summary>
/// What a web framework knows about the request behind a local root <see cref="Activity"/>: method and route.
/// Attached as a custom property (not a tag, so exporters never see it) and read when samples are labelled.
/// </summary>
internal sealed class RequestDescription
{
    /// <summary>The custom-property name on the request's root activity.</summary>
    public const string PropertyName = "traceprof.request";

    /// <summary>Creates a description.</summary>
    /// <param name="method">The HTTP method.</param>
    public RequestDescription(string method)
    {
        Method = method;
    }

    /// <summary>Gets the HTTP method.</summary>
    public string Method { get; }

    /// <summary>Gets or sets the route template, once routing has chosen one.</summary>
    public string? Route { get; set; }

    /// <summary>Gets or sets when the request began (Stopwatch clock); 0 when not tracked.</summary>
    public long StartTimestamp { get; set; }

    /// <summary>Gets or sets when the request ended (Stopwatch clock); 0 while it runs.</summary>
    public long EndTimestamp { get; set; }

    /// <summary>Attaches the description to a request's root activity.</summary>
    /// <param name="activity">The activity.</param>
    public void AttachTo(Activity activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        activity.SetCustomProperty(PropertyName, this);
    }
}
