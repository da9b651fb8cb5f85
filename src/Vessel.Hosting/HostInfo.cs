namespace Vessel.Hosting;

/// <summary>Host capacity and what running VMs have been given out of it.</summary>
public sealed record HostInfo(int Cores, ulong MemoryBytes, int AllocatedCpus, ulong AllocatedMemoryBytes, int RunningVms, int DefinedVms);
