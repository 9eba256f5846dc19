using System.Globalization;
using TraceProf.Encoding;
using TraceProf.Profiles;

namespace TraceProf.Benchmarks;

/// <summary>
/// What the <c>time_bucket</c> label (each sample once in merged views) costs a stored profile: rows and gzipped pprof
/// bytes of each file as stored, and rebuilt without the label:
/// <c>dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- bucket-cost a.pb.gz [b.pb.gz …]</c>.
/// </summary>
internal static class BucketCost
{
    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: bucket-cost <profile.pb.gz>...");
            return 2;
        }

        Console.WriteLine("file | rows | rows without buckets | pprof bytes | bytes without buckets | cost");
        foreach (var path in args.Skip(1))
        {
            var stored = PprofDecoder.Decode(File.ReadAllBytes(path));
            var builder = new ProfileBuilder(stored.SampleTypes, stored.DefaultSampleTypeIndex)
            {
                PeriodType = stored.PeriodType,
                Period = stored.Period,
                StartTime = stored.StartTime,
                Duration = stored.Duration,
            };
            foreach (var comment in stored.Comments)
            {
                builder.AddComment(comment);
            }

            var frames = stored.Frames.Select(builder.InternFrame).ToArray();
            foreach (var sample in stored.Samples)
            {
                builder.Add(
                    [.. sample.Stack.Select(f => frames[f])],
                    [.. sample.Values],
                    [.. sample.Labels.Where(l => l.Key != "time_bucket")]);
            }

            var without = builder.Build();
            var storedBytes = Encode(stored);
            var withoutBytes = Encode(without);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{Path.GetFileName(path)} | {stored.Samples.Count} | {without.Samples.Count} | {storedBytes} | {withoutBytes} | +{(storedBytes - withoutBytes) * 100.0 / withoutBytes:F1} %"));
        }

        return 0;
    }

    private static long Encode(Profile profile)
    {
        using var buffer = new MemoryStream();
        ProfileEncoder.Write(profile, ProfileFormat.Pprof, buffer, "bucket-cost");
        return buffer.Length;
    }
}
