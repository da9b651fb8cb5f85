namespace Vessel.Hosting;

/// <summary>
/// Host capacity, what running VMs have been given out of it, and what their workers really use (resident memory and
/// CPU, in percent of one core, summed over workers; filled in by <see cref="VmStatisticsCollector"/>).
/// </summary>
public sealed record HostInfo(
    int Cores, ulong MemoryBytes, int AllocatedCpus, ulong AllocatedMemoryBytes, int RunningVms, int DefinedVms,
    ulong UsedMemoryBytes = 0, double UsedCpuPercent = 0, bool AllowOvercommit = false);
