namespace Vessel.Hosting;

/// <summary>A request to define a VM, as the user wrote it (sizes as text, e.g. "256M"); validated into a <see cref="VmDefinition"/>.</summary>
public sealed record VmCreateRequest
{
    public string? Name { get; init; }

    public int? Cpus { get; init; }

    public string? Memory { get; init; }

    public string? Kernel { get; init; }

    public string? Initrd { get; init; }

    public string? Firmware { get; init; }

    public string? CommandLine { get; init; }

    public IReadOnlyList<VmDisk>? Disks { get; init; }

    public IReadOnlyList<string>? Nics { get; init; }

    public string? RestartPolicy { get; init; }

    public bool? AllowOvercommit { get; init; }

    public int? CpuWeight { get; init; }

    public int? CpuCapPercent { get; init; }
}
