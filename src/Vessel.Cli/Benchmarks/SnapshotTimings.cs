namespace Vessel.Cli.Benchmarks;

/// <summary>
/// One snapshot round on one engine: take a live snapshot, restore it, and get the console to answer again (null when
/// the restored guest's shell did not answer within the step timeout: QEMU 7.2's guest sometimes stays silent long
/// after <c>loadvm</c>; the snapshot and restore times are still good).
/// </summary>
public sealed record SnapshotTimings(TimeSpan Snapshot, TimeSpan Restore, TimeSpan? RestoreToConsole)
{
    public const string Group = "512 MiB + qcow2";

    /// <summary>The three numbers in milliseconds (lower is better), as the suite reports them.</summary>
    public IReadOnlyList<BenchmarkMeasurement> ToMeasurements() =>
    [
        new BenchmarkMeasurement("live snapshot", Snapshot.TotalMilliseconds, "ms", HigherIsBetter: false),
        new BenchmarkMeasurement("restore", Restore.TotalMilliseconds, "ms", HigherIsBetter: false),
        .. RestoreToConsole is { } answered
            ? [new BenchmarkMeasurement("restore to console answer", answered.TotalMilliseconds, "ms", HigherIsBetter: false)]
            : Array.Empty<BenchmarkMeasurement>(),
    ];
}
