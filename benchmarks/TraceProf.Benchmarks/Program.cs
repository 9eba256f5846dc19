using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/TraceProf.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
