namespace Vessel.Cli.Benchmarks;

/// <summary>
/// One workload of a side-by-side suite: how to build the guest boot (called before every run, so each run can
/// get fresh disk images) and how to read its measurements from the result (null when the run failed).
/// </summary>
public sealed record BenchmarkCase(
    string Group,
    Func<GuestWorkload> CreateWorkload,
    Func<GuestRunResult, IReadOnlyList<BenchmarkMeasurement>?> Measure);
