namespace Vessel.Hosting;

/// <summary>A worker's answer to <c>stats</c> on its control socket: guest-side counters the OS cannot see.</summary>
public sealed record WorkerStatistics(
    int Pid, double UptimeSeconds, ulong InstructionsRetired, IReadOnlyList<DiskStatistics> Disks, IReadOnlyList<NicStatistics> Nics,
    BalloonStatistics? Balloon = null);
