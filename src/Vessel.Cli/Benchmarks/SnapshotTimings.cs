namespace Vessel.Cli.Benchmarks;

/// <summary>One snapshot round on one engine: take a live snapshot, restore it, and get the console to answer again.</summary>
public sealed record SnapshotTimings(TimeSpan Snapshot, TimeSpan Restore, TimeSpan RestoreToConsole)
{
    public const string Group = "512 MiB + qcow2";

    /// <summary>The three numbers in milliseconds (lower is better), as the suite reports them.</summary>
    public IReadOnlyList<BenchmarkMeasurement> ToMeasurements() =>
    [
        new BenchmarkMeasurement("live snapshot", Snapshot.TotalMilliseconds, "ms", HigherIsBetter: false),
        new BenchmarkMeasurement("restore", Restore.TotalMilliseconds, "ms", HigherIsBetter: false),
        new BenchmarkMeasurement("restore to console answer", RestoreToConsole.TotalMilliseconds, "ms", HigherIsBetter: false),
    ];
}
