using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Vessel.Benchmarks -- --filter '*'   (or a class name, e.g. '*Tlb*')
BenchmarkSwitcher.FromAssembly(typeof(Vessel.Benchmarks.InstructionDispatchBenchmarks).Assembly).Run(args);
