namespace Vessel.Hosting;

/// <summary>
/// A VM's live numbers (issue 6, monitoring): guest instructions and device counters from its worker, CPU and resident
/// memory from the OS. Rates are over the interval since the previous sample (at least half a second), or the
/// average since the worker started on the first sample. CPU percent is of one host core (2 busy vCPUs: ~200).
/// </summary>
public sealed record VmStats(
    string Name,
    string State,
    int? Pid,
    int Cpus,
    ulong MemoryBytes,
    double UptimeSeconds,
    ulong InstructionsRetired,
    double InstructionsPerSecond,
    double CpuSeconds,
    double CpuPercent,
    ulong RssBytes,
    IReadOnlyList<DiskStatistics> Disks,
    IReadOnlyList<NicStatistics> Nics,
    BalloonStatistics? Balloon = null);
