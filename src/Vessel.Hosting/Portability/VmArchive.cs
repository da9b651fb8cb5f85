using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vessel.Storage;

namespace Vessel.Hosting.Portability;

/// <summary>
/// The portable VM archive of <c>vessel vm export</c>/<c>import</c>: a POSIX (pax) tar whose first entry is
/// <c>manifest.json</c> (<see cref="VmArchiveManifest"/>), followed by every file the manifest lists, each checked
/// against its size and SHA-256 on import. Disks are stored as self-contained qcow2 (backing chains flattened), as
/// <c>disks/N.qcow2</c>; a custom kernel, initrd and firmware as <c>boot/kernel</c>, <c>boot/initrd</c>,
/// <c>boot/firmware</c>. The archive is written to a temporary name and renamed once complete (DESIGN.md §5).
/// </summary>
public static partial class VmArchive
{
    public const string ManifestEntry = "manifest.json";
    private const int MaxManifestBytes = 1 << 20;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    [GeneratedRegex(@"^(disks/[0-9]{1,2}\.qcow2|boot/(kernel|initrd|firmware))$")]
    private static partial Regex EntryName();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();

    /// <summary>Writes <paramref name="definition"/> and its files to <paramref name="archivePath"/>; <paramref name="workDirectory"/> holds the flattened disks meanwhile.</summary>
    public static void Write(VmDefinition definition, string archivePath, string workDirectory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(workDirectory);
        var files = new List<(string Entry, string Source)>();
        var disks = new List<VmDisk>();
        for (int i = 0; i < definition.Disks.Count; i++)
        {
            var disk = definition.Disks[i];
            string entry = $"disks/{i}.qcow2";
            string flat = Path.Combine(workDirectory, $"{i}.qcow2");
            ImageConverter.Convert(disk.Path, disk.Format, flat, ImageFormat.Qcow2, cancellationToken: cancellationToken);
            files.Add((entry, flat));
            disks.Add(disk with { Path = entry, Format = "qcow2" });
        }

        string? Boot(string? path, string entry)
        {
            if (path is null)
            {
                return null;
            }

            files.Add((entry, path));
            return entry;
        }

        var portable = definition with
        {
            Disks = disks,
            Kernel = Boot(definition.Kernel, "boot/kernel"),
            Initrd = Boot(definition.Initrd, "boot/initrd"),
            Firmware = Boot(definition.Firmware, "boot/firmware"),
        };
        var entries = files.Select(f => new VmArchiveManifest.Entry(f.Entry, new FileInfo(f.Source).Length, Sha256Of(f.Source, cancellationToken))).ToList();
        var manifest = new VmArchiveManifest
        {
            Format = VmArchiveManifest.FormatName,
            Version = VmArchiveManifest.CurrentVersion,
            ExportedAt = DateTimeOffset.UtcNow,
            Definition = portable,
            Files = entries,
        };

        string temp = archivePath + ".tmp";
        try
        {
            using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
                {
                    var manifestEntry = new PaxTarEntry(TarEntryType.RegularFile, ManifestEntry)
                    {
                        DataStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, Json)),
                    };
                    tar.WriteEntry(manifestEntry);
                    foreach (var (entry, source) in files)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var data = File.OpenRead(source);
                        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry) { DataStream = data });
                    }
                }

                output.Flush(flushToDisk: true);
            }

            File.Move(temp, archivePath, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Verifies and unpacks an archive into <paramref name="targetDirectory"/> (which the caller removes on failure).
    /// Returns the manifest, whose definition's paths are entry names, and where each entry now is.
    /// Throws <see cref="VmArchiveException"/> saying what is wrong: not an archive, a newer format, a file missing,
    /// extra or changed, or a disk that is not self-contained.
    /// </summary>
    public static (VmArchiveManifest Manifest, IReadOnlyDictionary<string, string> Files) Read(string archivePath, string targetDirectory, CancellationToken cancellationToken = default)
    {
        try
        {
            using var input = File.OpenRead(archivePath);
            using var tar = new TarReader(input);
            var manifest = ReadManifest(tar, archivePath);
            var expected = manifest.Files!.ToDictionary(f => f.Name);
            var extracted = new Dictionary<string, string>(StringComparer.Ordinal);
            Directory.CreateDirectory(targetDirectory);
            while (tar.GetNextEntry() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !expected.TryGetValue(entry.Name, out var listed))
                {
                    throw new VmArchiveException($"{archivePath}: unexpected entry '{entry.Name}' ({entry.EntryType}) that the manifest does not list");
                }

                if (extracted.ContainsKey(entry.Name))
                {
                    throw new VmArchiveException($"{archivePath}: entry '{entry.Name}' appears twice");
                }

                string target = Path.Combine(targetDirectory, entry.Name.Replace('/', '_'));
                string actual = CopyAndHash(entry.DataStream, target, out long size, cancellationToken);
                if (size != listed.Size || actual != listed.Sha256)
                {
                    throw new VmArchiveException(
                        $"{archivePath}: '{entry.Name}' is damaged or was tampered with ({size} bytes, SHA-256 {actual[..12]}…; the manifest says {listed.Size} bytes, {listed.Sha256[..12]}…)");
                }

                extracted[entry.Name] = target;
            }

            if (expected.Keys.FirstOrDefault(k => !extracted.ContainsKey(k)) is { } missing)
            {
                throw new VmArchiveException($"{archivePath}: the archive is incomplete: '{missing}' is missing (truncated download?)");
            }

            foreach (var disk in manifest.Definition!.Disks)
            {
                var info = DiskImageInspector.Inspect(extracted[disk.Path], "qcow2");
                if (info.BackingFile is not null)
                {
                    throw new VmArchiveException($"{archivePath}: disk '{disk.Path}' refers to a backing file ({info.BackingFile}); archived disks must be self-contained");
                }
            }

            return (manifest, extracted);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or DiskImageException or ArgumentException)
        {
            throw new VmArchiveException($"{archivePath}: not a valid Vessel VM archive: {e.Message}", e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new VmArchiveException($"{archivePath}: no such file", e);
        }
    }

    private static VmArchiveManifest ReadManifest(TarReader tar, string archivePath)
    {
        var first = tar.GetNextEntry();
        if (first is null || first.Name != ManifestEntry || first.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || first.DataStream is null)
        {
            throw new VmArchiveException($"{archivePath}: not a Vessel VM archive (its first entry must be {ManifestEntry})");
        }

        if (first.Length > MaxManifestBytes)
        {
            throw new VmArchiveException($"{archivePath}: {ManifestEntry} is {first.Length} bytes; at most {MaxManifestBytes} are accepted");
        }

        VmArchiveManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<VmArchiveManifest>(first.DataStream, Json) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new VmArchiveException($"{archivePath}: {ManifestEntry} is not valid: {e.Message}", e);
        }

        if (manifest.Format != VmArchiveManifest.FormatName)
        {
            throw new VmArchiveException($"{archivePath}: {ManifestEntry} names format '{manifest.Format}', not '{VmArchiveManifest.FormatName}'");
        }

        if (manifest.Version != VmArchiveManifest.CurrentVersion)
        {
            throw new VmArchiveException(
                $"{archivePath}: archive format version {manifest.Version}; this Vessel reads version {VmArchiveManifest.CurrentVersion}{(manifest.Version > VmArchiveManifest.CurrentVersion ? " (it was written by a newer Vessel)" : string.Empty)}");
        }

        if (manifest.Definition is not { } definition || manifest.Files is not { } files)
        {
            throw new VmArchiveException($"{archivePath}: {ManifestEntry} has no definition or no file list");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (file is null || !EntryName().IsMatch(file.Name ?? string.Empty) || !names.Add(file.Name!) || file.Size < 0 || !Sha256Hex().IsMatch(file.Sha256 ?? string.Empty))
            {
                throw new VmArchiveException($"{archivePath}: {ManifestEntry} lists a bad file entry ('{file?.Name}')");
            }
        }

        // Every path in the definition must be an archived file, so nothing outside the archive is ever referenced.
        var referenced = definition.Disks.Select(d => d.Path).Concat(new[] { definition.Kernel, definition.Initrd, definition.Firmware }.OfType<string>()).ToList();
        if (referenced.FirstOrDefault(p => !names.Contains(p)) is { } stray)
        {
            throw new VmArchiveException($"{archivePath}: the definition refers to '{stray}', which is not in the archive");
        }

        if (definition.Disks.Any(d => !d.Path.StartsWith("disks/", StringComparison.Ordinal)) || definition.Disks.Select(d => d.Path).Distinct().Count() != definition.Disks.Count)
        {
            throw new VmArchiveException($"{archivePath}: the definition's disks must be distinct disks/N.qcow2 entries");
        }

        return manifest;
    }

    private static string CopyAndHash(Stream? source, string target, out long size, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
        byte[] buffer = new byte[1 << 20];
        size = 0;
        int n;
        while (source is not null && (n = source.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(buffer, 0, n);
            output.Write(buffer, 0, n);
            size += n;
        }

        output.Flush(flushToDisk: true);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string Sha256Of(string path, CancellationToken cancellationToken)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashDataAsync(stream, cancellationToken).AsTask().GetAwaiter().GetResult());
    }
}
