using BenchmarkDotNet.Running;
using TraceProf.Benchmarks;

// dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- --filter '*'   (BenchmarkDotNet suites)
// dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- sampler-cost  (the sampler's own cost)
if (args.Length > 0 && args[0].StartsWith("sampler-cost", StringComparison.Ordinal))
{
    return SamplerCost.Run(args);
}

// dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- heap-snapshot <items> <payload bytes> [rounds] [hold seconds] [max buffer MB] [max objects]
if (args.Length > 0 && args[0] == "heap-snapshot")
{
    return HeapSnapshotCost.Run(args);
}

if (args.Length > 0 && args[0] == "parse-file")
{
    return ParseFile.Run(args);
}

// dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- bucket-cost a.pb.gz [b.pb.gz …]  (time_bucket's size cost)
if (args.Length > 0 && args[0] == "bucket-cost")
{
    return BucketCost.Run(args);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
