namespace Vessel.Hosting;

/// <summary>
/// A validated VM definition as stored in the registry. Null kernel means the default guest kit (its kernel,
/// firmware and initramfs). <see cref="Nics"/> use <c>vessel run --net</c>'s syntax, each pinned to its MAC.
/// </summary>
public sealed record VmDefinition
{
    public required string Name { get; init; }

    public int Cpus { get; init; } = 1;

    public ulong MemoryBytes { get; init; } = 512UL << 20;

    public string? Kernel { get; init; }

    public string? Initrd { get; init; }

    public string? Firmware { get; init; }

    public string CommandLine { get; init; } = "console=ttyS0";

    public IReadOnlyList<VmDisk> Disks { get; init; } = [];

    public IReadOnlyList<string> Nics { get; init; } = [];

    public RestartPolicy RestartPolicy { get; init; } = RestartPolicy.No;

    /// <summary>This VM may start even when its vCPUs or memory exceed what running VMs left unallocated.</summary>
    public bool AllowOvercommit { get; init; }

    /// <summary>Relative CPU share against other VMs (cgroup cpu.shares/cpu.weight scale; default 100).</summary>
    public int CpuWeight { get; init; } = VmCpuControls.DefaultWeight;

    /// <summary>Most CPU each vCPU may use, in percent of one host core (null: no cap).</summary>
    public int? CpuCapPercent { get; init; }

    /// <summary>
    /// The guest's /etc/machine-id (<see cref="VmIdentity.NewMachineId"/>): new at create, clone and import under a
    /// new name, kept across restarts and reverts. Null only in rows written before it existed; the registry fills
    /// those in when it reads them.
    /// </summary>
    public string? MachineId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}
