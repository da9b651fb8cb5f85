namespace Vessel.Cli.Benchmarks;

/// <summary>One number from one run. <see cref="HigherIsBetter"/> decides which way the Vessel/QEMU ratio reads.</summary>
public sealed record BenchmarkMeasurement(string Metric, double Value, string Unit, bool HigherIsBetter);
