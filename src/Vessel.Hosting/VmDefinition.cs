namespace Vessel.Hosting;

/// <summary>
/// A validated VM definition as stored in the registry. Null kernel means the default guest kit (its kernel,
/// firmware and initramfs). <see cref="Nics"/> is kept for the networking work and not yet used by the worker.
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

    public DateTimeOffset CreatedAt { get; init; }
}
