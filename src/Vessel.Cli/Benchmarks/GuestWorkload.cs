namespace Vessel.Cli.Benchmarks;

/// <summary>One guest boot to benchmark: the same images, command line and disks go to Vessel and to QEMU.</summary>
public sealed record GuestWorkload
{
    public required string Firmware { get; init; }

    public required string Kernel { get; init; }

    public required string Initrd { get; init; }

    public required string CommandLine { get; init; }

    public int Cpus { get; init; } = 1;

    /// <summary>How Vessel's harts run (QEMU always uses TCG).</summary>
    public Vessel.RiscV.CpuEngine Engine { get; init; } = Vessel.RiscV.CpuEngineSelection.Default;

    public ulong MemorySize { get; init; } = 512UL << 20;

    /// <summary>Disk images in order (vda first), with their format name as both tools spell it.</summary>
    public IReadOnlyList<(string Path, string Format)> Disks { get; init; } = [];

    /// <summary>One virtio-net NIC on user-mode NAT (Vessel's and QEMU's slirp: guest 10.0.2.15, host 10.0.2.2).</summary>
    public bool UserNetwork { get; init; }

    /// <summary>One virtio-net NIC on a private LAN with one other VM, or null.</summary>
    public LanLink? Lan { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Console text whose first appearance is timed (e.g. the shell prompt), or null.</summary>
    public string? Marker { get; init; }
}
