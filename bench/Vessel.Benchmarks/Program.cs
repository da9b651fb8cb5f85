using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// dotnet run -c Release --project bench/Vessel.Benchmarks -- --filter '*'   (or a class, e.g. --filter '*Tlb*')
// In-process: the benchmarks run inside this build, so the repository's build settings apply and nothing is
// regenerated and recompiled per run (slow on a small shared machine). ShortRun unless --job says otherwise.
var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
BenchmarkSwitcher.FromAssembly(typeof(Vessel.Benchmarks.InstructionDispatchBenchmarks).Assembly).Run(args, config);
