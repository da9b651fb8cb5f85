namespace Vessel.Cli.Benchmarks;

/// <summary>
/// One workload of a side-by-side suite: how to build the guest boot (called before every run, so each run can
/// get fresh disk images) and how to read its measurements from the result (null when the run failed).
/// </summary>
public sealed record BenchmarkCase(
    string Group,
    Func<GuestWorkload> CreateWorkload,
    Func<GuestRunResult, IReadOnlyList<BenchmarkMeasurement>?> Measure)
{
    /// <summary>
    /// A second VM that runs at the same time on the same engine (e.g. the other end of a VM-to-VM link), made
    /// right after <see cref="CreateWorkload"/>; it must end cleanly too, but is not measured. A case with a peer runs
    /// both VMs as processes (<see cref="GuestProcess"/>), as two VMs are deployed.
    /// </summary>
    public Func<GuestWorkload>? CreatePeer { get; init; }
}
