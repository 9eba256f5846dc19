using System.Runtime.InteropServices;
using System.Text.Json;
using TraceProf.Profiles;

namespace TraceProf.Encoding;

/// <summary>
/// Writes a <see cref="Profile"/> in speedscope's file format (https://www.speedscope.app/file-format-schema.json):
/// one <c>sampled</c> profile per sample type (cpu, wall, samples …), the default sample type shown first —
/// or, when the samples come from several services (a trace view, label <c>service.name</c>), one profile per
/// service in the default sample type. Samples with the same stack are merged across other labels and
/// zero-weight samples are left out.
/// </summary>
internal static class SpeedscopeEncoder
{
    /// <summary>The schema URL speedscope recognises its files by.</summary>
    public const string Schema = "https://www.speedscope.app/file-format-schema.json";

    private const string ServiceLabel = "service.name";

    /// <summary>Writes the profile as speedscope JSON.</summary>
    /// <param name="profile">The profile.</param>
    /// <param name="destination">Where to write (left open).</param>
    /// <param name="name">The name speedscope shows.</param>
    public static void Write(Profile profile, Stream destination, string name)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(name);
        using var json = new Utf8JsonWriter(destination);
        json.WriteStartObject();
        json.WriteString("$schema", Schema);
        json.WriteString("name", name);
        json.WriteString("exporter", "TraceProf");
        json.WriteNumber("activeProfileIndex", 0);

        // One speedscope frame per name and module: frames that differ only in their system name (overloads,
        // generic instantiations) are one box in the flame graph, as they are one row in go tool pprof.
        var shared = new List<ProfileFrame>();
        var sharedIndex = new Dictionary<(string, string), int>();
        var frameIndex = new int[profile.Frames.Count];
        for (var i = 0; i < frameIndex.Length; i++)
        {
            var frame = profile.Frames[i];
            if (!sharedIndex.TryGetValue((frame.FunctionName, frame.ModuleName), out var index))
            {
                index = shared.Count;
                shared.Add(frame);
                sharedIndex[(frame.FunctionName, frame.ModuleName)] = index;
            }

            frameIndex[i] = index;
        }

        json.WriteStartObject("shared");
        json.WriteStartArray("frames");
        foreach (var frame in shared)
        {
            json.WriteStartObject();
            json.WriteString("name", frame.FunctionName);
            if (frame.ModuleName.Length > 0)
            {
                json.WriteString("file", frame.ModuleName);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteStartArray("profiles");
        var services = profile.Samples
            .SelectMany(s => s.Labels)
            .Where(l => l.Key == ServiceLabel)
            .Select(l => l.Value)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (services.Count > 1)
        {
            var index = profile.DefaultSampleTypeIndex;
            foreach (var service in services)
            {
                var label = new ProfileLabel(ServiceLabel, service);
                WriteSampled(json, profile, frameIndex, index, $"{service} ({profile.SampleTypes[index]})", s => s.Labels.Contains(label));
            }
        }
        else
        {
            foreach (var index in SampleTypeOrder(profile))
            {
                WriteSampled(json, profile, frameIndex, index, $"{name} ({profile.SampleTypes[index]})", keep: null);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static IEnumerable<int> SampleTypeOrder(Profile profile) =>
        new[] { profile.DefaultSampleTypeIndex }.Concat(Enumerable.Range(0, profile.SampleTypes.Count).Where(i => i != profile.DefaultSampleTypeIndex));

    private static void WriteSampled(Utf8JsonWriter json, Profile profile, int[] frameIndex, int valueIndex, string name, Func<ProfileSample, bool>? keep)
    {
        var stacks = FoldedEncoder.SumByStack(profile, valueIndex, keep);
        long total = 0;
        foreach (var (_, weight) in stacks)
        {
            total += weight;
        }

        json.WriteStartObject();
        json.WriteString("type", "sampled");
        json.WriteString("name", name);
        json.WriteString("unit", profile.SampleTypes[valueIndex].Unit switch
        {
            "nanoseconds" => "nanoseconds",
            "microseconds" => "microseconds",
            "milliseconds" => "milliseconds",
            "seconds" => "seconds",
            "bytes" => "bytes",
            _ => "none",
        });
        json.WriteNumber("startValue", 0);
        json.WriteNumber("endValue", total);
        json.WriteStartArray("samples");
        foreach (var (stack, _) in stacks)
        {
            // speedscope wants the root first; the model keeps pprof's leaf-first order.
            json.WriteStartArray();
            for (var i = stack.Length - 1; i >= 0; i--)
            {
                json.WriteNumberValue(frameIndex[stack[i]]);
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteStartArray("weights");
        foreach (var (_, weight) in stacks)
        {
            json.WriteNumberValue(weight);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
