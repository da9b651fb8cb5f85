namespace Vessel.Storage;

/// <summary>What <c>vessel img info</c> shows about an image (the qcow2 fields are null for other formats).</summary>
public sealed record DiskImageInfo
{
    public required string Path { get; init; }

    public required ImageFormat Format { get; init; }

    public required ulong VirtualSize { get; init; }

    /// <summary>Length of the host file in bytes (sparse files use less space on disk).</summary>
    public required ulong FileLength { get; init; }

    public int? ClusterSize { get; init; }

    /// <summary>qcow2 compat level as qemu-img names it: "0.10" for version 2, "1.1" for version 3.</summary>
    public string? Compat { get; init; }

    public string? BackingFile { get; init; }

    public string? BackingFormat { get; init; }

    public bool? LazyRefcounts { get; init; }

    public bool? Dirty { get; init; }

    public bool? Corrupt { get; init; }

    public int? RefcountBits { get; init; }

    public uint? SnapshotCount { get; init; }
}
