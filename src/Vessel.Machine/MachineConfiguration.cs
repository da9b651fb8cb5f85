using Vessel.RiscV;

namespace Vessel.Machine;

/// <summary>What a <c>virt</c> machine is made of: harts, RAM, and the images it boots.</summary>
public sealed record MachineConfiguration
{
    public int CpuCount { get; init; } = 1;

    public ulong MemorySize { get; init; } = 512UL << 20;

    /// <summary>How the harts run guest code: the interpreter (the reference) or the JIT; see <see cref="CpuEngineSelection"/>.</summary>
    public CpuEngine CpuEngine { get; init; } = CpuEngineSelection.Default;

    /// <summary>OpenSBI <c>fw_dynamic.bin</c> (raw binary or ELF) loaded at the start of RAM.</summary>
    public required string FirmwarePath { get; init; }

    /// <summary>Linux <c>Image</c> (raw, gzip-compressed, or ELF).</summary>
    public required string KernelPath { get; init; }

    public string? InitrdPath { get; init; }

    public string CommandLine { get; init; } = "console=ttyS0";

    /// <summary>virtio-blk disks, in order: the first is /dev/vda.</summary>
    public IReadOnlyList<DiskConfiguration> Disks { get; init; } = [];

    /// <summary>virtio-net NICs, in order: the first is eth0.</summary>
    public IReadOnlyList<NetworkInterfaceConfiguration> Nics { get; init; } = [];

    /// <summary>A virtio-rng device feeding the guest's entropy pool from the host's CSPRNG (on by default).</summary>
    public bool EntropySource { get; init; } = true;

    /// <summary>A virtio-balloon device so the host can take memory back from the guest (on by default).</summary>
    public bool Balloon { get; init; } = true;

    /// <summary>A virtio-console port (<c>/dev/hvc0</c>), connected by the host through <see cref="VirtMachine.VirtioConsole"/>.</summary>
    public bool VirtioConsole { get; init; }

    /// <summary>A CPU governor told after every hart slice (null: run flat out).</summary>
    public IHartThrottle? Throttle { get; init; }

    /// <summary>virtio-mmio slots this configuration needs: disks, then NICs, the console, the rng and the balloon.</summary>
    public int VirtioDeviceCount => Disks.Count + Nics.Count + (VirtioConsole ? 1 : 0) + (EntropySource ? 1 : 0) + (Balloon ? 1 : 0);

    /// <summary>Most harts a machine may have (ACLINT/PLIC contexts and host threads).</summary>
    public const int MaxCpus = 32;

    /// <summary>Checks the configuration; returns a message naming the problem, or null when it is usable.</summary>
    public string? Validate()
    {
        if (CpuCount is < 1 or > MaxCpus)
        {
            return $"--cpus must be between 1 and {MaxCpus}, not {CpuCount}.";
        }

        if (CpuEngineSelection.EnvironmentProblem() is { } engineProblem)
        {
            return engineProblem;
        }

        if (MemorySize < (64UL << 20) || MemorySize > (64UL << 30) || (MemorySize & 0xFFFFF) != 0)
        {
            return "--memory must be a whole number of MiB between 64M and 64G.";
        }

        foreach (var (flag, path) in new[] { ("--bios", FirmwarePath), ("--kernel", KernelPath), ("--initrd", InitrdPath) })
        {
            if (path is not null && !File.Exists(path))
            {
                return $"{flag} {path}: no such file.";
            }
        }

        if (VirtioDeviceCount > VirtMemoryMap.VirtioSlots)
        {
            return $"too many virtio devices: {VirtioDeviceCount} (disks, NICs, console, rng, balloon) for {VirtMemoryMap.VirtioSlots} virtio-mmio slots.";
        }

        foreach (var disk in Disks)
        {
            if (!File.Exists(disk.Path))
            {
                return $"--disk {disk.Path}: no such file.";
            }
        }

        return null;
    }
}
