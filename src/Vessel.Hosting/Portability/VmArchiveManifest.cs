namespace Vessel.Hosting.Portability;

/// <summary>
/// <c>manifest.json</c>, the first entry of a VM archive (<see cref="VmArchive"/>): the format name and version, the
/// definition with every file path replaced by the archive entry that holds the file, and each entry's size and
/// SHA-256.
/// </summary>
public sealed record VmArchiveManifest
{
    public const string FormatName = "vessel-vm-archive";
    public const int CurrentVersion = 1;

    public string? Format { get; init; }

    public int Version { get; init; }

    public DateTimeOffset ExportedAt { get; init; }

    public VmDefinition? Definition { get; init; }

    public IReadOnlyList<Entry>? Files { get; init; }

    /// <summary>One archived file: entry name (e.g. <c>disks/0.qcow2</c>), its length and lower-case hex SHA-256.</summary>
    public sealed record Entry(string Name, long Size, string Sha256);
}
