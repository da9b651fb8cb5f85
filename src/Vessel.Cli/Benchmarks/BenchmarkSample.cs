namespace Vessel.Cli.Benchmarks;

/// <summary>A measurement taken on one engine ("vessel" or "qemu") in one run of a case.</summary>
public sealed record BenchmarkSample(string Group, string Engine, int Run, BenchmarkMeasurement Measurement);
