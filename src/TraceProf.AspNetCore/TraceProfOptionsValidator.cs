using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore;

/// <summary>Checks <see cref="TraceProfOptions"/> at start, so a bad setting fails fast with a message that names it.</summary>
internal sealed class TraceProfOptionsValidator : IValidateOptions<TraceProfOptions>
{
    public ValidateOptionsResult Validate(string? name, TraceProfOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.PathPrefix) || options.PathPrefix[0] != '/' || options.PathPrefix.EndsWith('/') || options.PathPrefix.Contains("//", StringComparison.Ordinal))
        {
            failures.Add($"TraceProf:PathPrefix must start with '/' and not end with '/' (for example /debug); got '{options.PathPrefix}'.");
        }

        if (string.IsNullOrWhiteSpace(options.RoleHeaderName) || options.RoleHeaderName.Any(c => c <= ' ' || c == ':' || c > '~'))
        {
            failures.Add($"TraceProf:RoleHeaderName must be a valid HTTP header name; got '{options.RoleHeaderName}'.");
        }

        if (string.IsNullOrWhiteSpace(options.RoleClaimType))
        {
            failures.Add("TraceProf:RoleClaimType must not be empty.");
        }

        if (options.DefaultCaptureSeconds > options.MaxCaptureSeconds)
        {
            failures.Add($"TraceProf:DefaultCaptureSeconds ({options.DefaultCaptureSeconds}) must not exceed TraceProf:MaxCaptureSeconds ({options.MaxCaptureSeconds}).");
        }

        foreach (var role in options.Roles)
        {
            if (string.IsNullOrWhiteSpace(role.Name))
            {
                failures.Add("Every TraceProf:Roles entry needs a Name.");
            }
            else if (!CapabilityNames.TryParseList(role.Capabilities, out _, out var unknown))
            {
                failures.Add($"TraceProf:Roles '{role.Name}' names an unknown capability '{unknown}'; known: *, {string.Join(", ", CapabilityNames.All)}.");
            }
        }

        foreach (var hash in options.ApiKeyHashes)
        {
            if (!ApiKeyVerifier.IsValidHash(hash))
            {
                failures.Add("TraceProf:ApiKeyHashes entries must be SHA-256 hashes written as 64 hex digits (for example: printf %s \"$KEY\" | sha256sum).");
            }
        }

        var roleNames = options.Roles.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var boundHashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in options.ApiKeys)
        {
            if (!ApiKeyVerifier.IsValidHash(key.Hash))
            {
                failures.Add("TraceProf:ApiKeys entries need a Hash: the key's SHA-256 as 64 hex digits (for example: printf %s \"$KEY\" | sha256sum).");
            }
            else if (!boundHashes.Add(key.Hash))
            {
                failures.Add("TraceProf:ApiKeys lists the same Hash twice; a key proves one role.");
            }

            if (!roleNames.Contains(key.Role))
            {
                failures.Add($"TraceProf:ApiKeys entries need a Role from TraceProf:Roles ({string.Join(", ", roleNames)}); got '{key.Role}'.");
            }
        }

        if (!string.IsNullOrEmpty(options.LoopbackRole) && !roleNames.Contains(options.LoopbackRole))
        {
            failures.Add($"TraceProf:LoopbackRole must be empty (none) or a role from TraceProf:Roles ({string.Join(", ", roleNames)}); got '{options.LoopbackRole}'.");
        }

        if (!options.Storage.TryGetProvider(out var provider))
        {
            failures.Add($"TraceProf:Storage:Provider must be {string.Join(" or ", Enum.GetNames<StorageProvider>())}; got '{options.Storage.Provider}'.");
        }
        else if (provider == StorageProvider.PostgreSql && string.IsNullOrWhiteSpace(options.Storage.ConnectionString))
        {
            failures.Add("TraceProf:Storage:Provider is PostgreSql, so TraceProf:Storage:ConnectionString must name the database (for example Host=db;Username=traceprof;Password=…;Database=traceprof).");
        }

        var recorder = options.FlightRecorder;
        if (!recorder.TryGetKinds(out _, out var badKind))
        {
            failures.Add($"TraceProf:FlightRecorder:Kinds must list one or more of cpu, contention, allocations, waits, exceptions, comma-separated; got '{badKind}'.");
        }

        if (!recorder.TryGetEventPipeCpu(out _))
        {
            failures.Add($"TraceProf:FlightRecorder:EventPipeCpu must be auto, always or armed; got '{recorder.EventPipeCpu}'.");
        }

        if (recorder.MinStatusCode is > 0 and < 400)
        {
            failures.Add($"TraceProf:FlightRecorder:MinStatusCode must be 0 (off) or from 400 to 599; got {recorder.MinStatusCode}.");
        }

        if (recorder.ExceptionStormPerSecond is > 0 and < 1000)
        {
            failures.Add($"TraceProf:FlightRecorder:ExceptionStormPerSecond must be 0 (never pause) or from 1000 to 10000000, above the 1,000 exceptions a second the recorder keeps one by one; got {recorder.ExceptionStormPerSecond}.");
        }

        foreach (var (route, ms) in recorder.SlowRoutes)
        {
            if (string.IsNullOrWhiteSpace(route) || ms is < 0 or > 3_600_000)
            {
                failures.Add($"TraceProf:FlightRecorder:SlowRoutes entries map a route template to milliseconds from 0 to 3600000; got '{route}' = {ms}.");
            }
        }

        if (!TraceProf.Capture.CpuSamplerChoice.TryParse(options.Cpu.Sampler, out _))
        {
            failures.Add($"TraceProf:Cpu:Sampler must be auto, perf or eventpipe; got '{options.Cpu.Sampler}'.");
        }

        AddAnnotationFailures(options.Cpu, "TraceProf:Cpu", failures);
        AddAnnotationFailures(options, "TraceProf", failures);
        AddAnnotationFailures(recorder, "TraceProf:FlightRecorder", failures);
        AddAnnotationFailures(recorder.Triggers, "TraceProf:FlightRecorder:Triggers", failures);
        AddAnnotationFailures(options.Storage, "TraceProf:Storage", failures);
        AddAnnotationFailures(options.Heap, "TraceProf:Heap", failures);
        ValidatePyroscope(options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidatePyroscope(TraceProfOptions options, List<string> failures)
    {
        var pyroscope = options.Pyroscope;
        AddAnnotationFailures(pyroscope, "TraceProf:Pyroscope", failures);
        if (!pyroscope.Enabled)
        {
            return;
        }

        if (!Uri.TryCreate(pyroscope.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || !string.IsNullOrEmpty(url.Query))
        {
            failures.Add($"TraceProf:Pyroscope:Url must be an absolute http or https URL without a query (for example http://pyroscope:4040); got '{pyroscope.Url}'.");
        }

        if (string.IsNullOrEmpty(pyroscope.BasicAuthUser) != string.IsNullOrEmpty(pyroscope.BasicAuthPassword))
        {
            failures.Add("TraceProf:Pyroscope:BasicAuthUser and BasicAuthPassword must be set together.");
        }

        if (pyroscope.TenantId is { } tenant && (tenant.Length == 0 || tenant.Any(c => c < 0x21 || c > 0x7e)))
        {
            failures.Add("TraceProf:Pyroscope:TenantId must be printable ASCII without spaces (it is sent as X-Scope-OrgID).");
        }

        foreach (var (name, value) in pyroscope.Labels)
        {
            if (!Pyroscope.PyroscopeLabels.IsValidName(name) || name.StartsWith("__", StringComparison.Ordinal) || Pyroscope.PyroscopeLabels.IsReserved(name) || string.IsNullOrEmpty(value))
            {
                failures.Add($"TraceProf:Pyroscope:Labels names must match [a-zA-Z_][a-zA-Z0-9_]*, not start with __, not be one TraceProf sets ({string.Join(", ", Pyroscope.PyroscopeLabels.Reserved)}), and have a value; got '{name}' = '{value}'.");
            }
        }

        if (!options.FlightRecorder.Enabled)
        {
            failures.Add("TraceProf:Pyroscope:Url is set, but the flight recorder is off (TraceProf:FlightRecorder:Enabled=false): it is what is pushed.");
        }
        else if (pyroscope.UploadIntervalSeconds > options.FlightRecorder.WindowSeconds)
        {
            failures.Add($"TraceProf:Pyroscope:UploadIntervalSeconds ({pyroscope.UploadIntervalSeconds}) must not exceed TraceProf:FlightRecorder:WindowSeconds ({options.FlightRecorder.WindowSeconds}), or samples fall out of the recorder before they are pushed.");
        }
    }

    private static void AddAnnotationFailures(object instance, string section, List<string> failures)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true))
        {
            failures.AddRange(results.Select(r => $"{section}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
        }
    }
}
