using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace TraceProf.AspNetCore.Builder;

/// <summary>Which service (and which instance of it) wrote a snapshot, named as OpenTelemetry names it.</summary>
internal static class ServiceIdentity
{
    private static readonly string ProcessInstanceId = Guid.NewGuid().ToString();

    /// <summary>
    /// <see cref="TraceProfOptions.ServiceName"/> if set, else the OpenTelemetry resource's <c>service.name</c>
    /// (when the host set one up), else <c>OTEL_SERVICE_NAME</c>, else the application name.
    /// </summary>
    public static string Name(IServiceProvider services, TraceProfOptions options, IHostEnvironment environment)
    {
        if (options.ServiceName is { Length: > 0 } configured)
        {
            return configured;
        }

        // OpenTelemetry names a service it was not told about "unknown_service:<process>"; that is no name.
        if (ResourceAttribute(services, "service.name") is { } fromResource && !fromResource.StartsWith("unknown_service", StringComparison.Ordinal))
        {
            return fromResource;
        }

        return services.GetService<IConfiguration>()?["OTEL_SERVICE_NAME"] is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : environment.ApplicationName;
    }

    /// <summary>The resource's <c>service.instance.id</c> if set, else an id made once per process.</summary>
    public static string InstanceId(IServiceProvider services) =>
        ResourceAttribute(services, "service.instance.id") ?? ProcessInstanceId;

    private static string? ResourceAttribute(IServiceProvider services, string key)
    {
        if (services.GetService<TracerProvider>() is not { } provider)
        {
            return null;
        }

        foreach (var attribute in provider.GetResource().Attributes)
        {
            if (attribute.Key == key)
            {
                return Convert.ToString(attribute.Value, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
