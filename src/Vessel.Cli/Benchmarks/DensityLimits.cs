namespace Vessel.Cli.Benchmarks;

/// <summary>
/// When the density benchmark stops starting VMs: the count cap, the time limit, or host memory — never closer to
/// running out than <see cref="MinimumFreeBytes"/> plus what the next VM may take.
/// </summary>
public sealed record DensityLimits(int MaxVms, TimeSpan TimeLimit, long ReserveBytes, long PerVmBytes)
{
    /// <summary>The least the host keeps free whatever the options say (2 GiB): other work on the host must go on.</summary>
    public const long MinimumFreeBytes = 2L << 30;

    /// <summary>Why to stop before starting another VM, or null to go on.</summary>
    public string? StopReason(int started, TimeSpan elapsed, long hostAvailableBytes) =>
        started >= MaxVms ? $"reached --max-vms {MaxVms}"
        : elapsed >= TimeLimit ? $"reached the {TimeLimit.TotalMinutes:0.#} min time limit"
        : hostAvailableBytes - PerVmBytes < Math.Max(ReserveBytes, MinimumFreeBytes)
            ? $"host memory low ({hostAvailableBytes >> 20} MiB available; one more VM may take {PerVmBytes >> 20} MiB and {Math.Max(ReserveBytes, MinimumFreeBytes) >> 20} MiB stay free)"
        : null;
}
