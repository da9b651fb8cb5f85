using Vessel.Hosting.Portability;
using Vessel.Storage;

namespace Vessel.Hosting;

/// <summary>
/// Clones, export and import of stopped VMs, or of running ones without writable disks (issue 6). Disks Vessel makes for a VM (clone copies and overlays,
/// imported disks) live in <c>vms/NAME/disks/</c> and go when the VM is deleted; the user's own disks never do.
/// </summary>
public sealed partial class VmSupervisor
{
    /// <summary>
    /// Clones a stopped VM: every disk copied (full), or a qcow2 overlay backed by each writable source disk (linked;
    /// the source may then not start or be deleted while the clone exists, see <see cref="LinkedCloneGuard"/>).
    /// With a snapshot, the disks as they were at it (<see cref="SnapshotImage"/>); a linked clone's overlays then
    /// rest on the snapshot's images, so the source may run on, but the snapshot may not be deleted while the clone
    /// exists. Read-only disks are shared. The clone gets the new name, new random MACs and a new machine-id.
    /// </summary>
    public VmDefinition Clone(string source, VmCloneRequest request, CancellationToken cancellationToken = default)
    {
        var definition = Registry.Get(source);
        string name = CheckNewName(request.Name);
        EnsureQuiescent(definition, "cloned");
        string diskDirectory = Path.Combine(Paths(name).Directory, "disks");
        PrepareDiskDirectory(name, diskDirectory); // only past this point is the directory ours to remove on failure
        try
        {
            var disks = new List<VmDisk>();
            for (int i = 0; i < definition.Disks.Count; i++)
            {
                var disk = definition.Disks[i];
                var info = DiskImageInspector.Inspect(disk.Path, disk.Format);
                if (disk.ReadOnly && request.Linked)
                {
                    disks.Add(disk); // never written by either VM: share it
                    continue;
                }

                if (request.Snapshot is { } snapshot && !disk.ReadOnly)
                {
                    var (image, format) = SnapshotImage(source, i, disk, snapshot, cancellationToken);
                    if (request.Linked)
                    {
                        string overlay = Path.Combine(diskDirectory, $"{i}.qcow2");
                        ulong size = DiskImageInspector.Inspect(image, format).VirtualSize;
                        Storage.Qcow2.Qcow2Image.Create(overlay, size, backingFile: image, backingFormat: format);
                        disks.Add(new VmDisk(overlay, "qcow2", false));
                    }
                    else
                    {
                        string copy = Path.Combine(diskDirectory, $"{i}.{format}");
                        ImageConverter.Convert(image, format, copy, ImageFormatNames.ParseSupported(format), cancellationToken: cancellationToken);
                        disks.Add(new VmDisk(copy, format, false));
                    }

                    continue;
                }

                if (request.Linked)
                {
                    string overlay = Path.Combine(diskDirectory, $"{i}.qcow2");
                    Storage.Qcow2.Qcow2Image.Create(overlay, info.VirtualSize, backingFile: Path.GetFullPath(disk.Path), backingFormat: info.Format.ToName());
                    disks.Add(new VmDisk(overlay, "qcow2", false));
                }
                else
                {
                    string copy = Path.Combine(diskDirectory, $"{i}.{info.Format.ToName()}");
                    ImageConverter.Convert(disk.Path, disk.Format, copy, info.Format, cancellationToken: cancellationToken);
                    disks.Add(new VmDisk(copy, info.Format.ToName(), disk.ReadOnly));
                }
            }

            var clone = Create(RequestFor(definition, name, disks, definition.Kernel, definition.Initrd, definition.Firmware, newMacs: true));
            string kind = request.Linked ? "linked" : "full";
            string of = request.Snapshot is null ? string.Empty : $" at snapshot '{request.Snapshot}'";
            Registry.Record(source, "cloned", $"{kind} clone '{name}' made{of}");
            Registry.Record(name, "cloned", $"{kind} clone of '{source}'{of}");
            return clone;
        }
        catch
        {
            DeleteQuietly(Paths(name).Directory);
            throw;
        }
    }

    /// <summary>
    /// An image of the source's disk <paramref name="index"/> as it was at <paramref name="snapshot"/>, which never
    /// changes while the snapshot exists: the snapshot's own copy for disks without internal snapshots (raw, VHD, VDI,
    /// single-file VMDK), else a base materialised once per snapshot in <c>snapshot-bases/SNAP/</c> and shared by
    /// every clone of it. Linked clones are overlays on it, full clones copies of it.
    /// </summary>
    private (string Path, string Format) SnapshotImage(string source, int index, VmDisk disk, string snapshot, CancellationToken cancellationToken)
    {
        var paths = Paths(source);
        string copy = paths.SnapshotDiskCopy(snapshot, index);
        if (File.Exists(copy))
        {
            return (copy, DiskImageInspector.Inspect(copy, disk.Format).Format.ToName());
        }

        string bases = paths.SnapshotBases(snapshot);
        string image = Path.Combine(bases, $"{index}.qcow2");
        if (!File.Exists(image))
        {
            Directory.CreateDirectory(bases);
            string temporary = image + ".tmp";
            File.Delete(temporary); // left by an interrupted clone
            try
            {
                CopyAtSnapshot(disk, temporary, snapshot, cancellationToken);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.GroupRead); // never written again: clones only read it
                }

                File.Move(temporary, image); // whole or absent: a crash never leaves a half-made base under its name
            }
            finally
            {
                File.Delete(temporary);
            }
        }

        return (image, "qcow2");
    }

    /// <summary>
    /// A standalone copy of a writable qcow2 disk as it was at internal snapshot <paramref name="snapshot"/>: the file
    /// copied (clusters shared with snapshots are copied as they are), reverted to the snapshot, and every snapshot
    /// dropped so the copy carries none of the source's history.
    /// </summary>
    private static void CopyAtSnapshot(VmDisk disk, string copy, string snapshot, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        File.Copy(disk.Path, copy);
        using var backend = DiskImage.Open(copy, disk.Format, readOnly: false);
        if (backend is not Storage.Qcow2.Qcow2Image image || image.ListSnapshots().All(s => s.Name != snapshot))
        {
            throw new VmConflictException($"disk {disk.Path} has no snapshot '{snapshot}' (was it added to the VM after the snapshot?)");
        }

        image.ApplySnapshot(snapshot);
        foreach (var name in image.ListSnapshots().Select(s => s.Name).ToList())
        {
            image.DeleteSnapshot(name);
        }
    }

    /// <summary>Writes a stopped VM to one portable archive (<see cref="VmArchive"/>).</summary>
    public VmExportResult Export(string name, VmExportRequest request, CancellationToken cancellationToken = default)
    {
        var definition = Registry.Get(name);
        if (string.IsNullOrWhiteSpace(request.Path) || !Path.IsPathRooted(request.Path))
        {
            throw new VmValidationException(new Dictionary<string, string[]> { ["path"] = [$"path must be an absolute file name, not '{request.Path}'"] });
        }

        if (Directory.Exists(request.Path) || !Directory.Exists(Path.GetDirectoryName(request.Path)))
        {
            throw new VmValidationException(new Dictionary<string, string[]> { ["path"] = [$"{request.Path}: is a directory, or its directory does not exist"] });
        }

        EnsureQuiescent(definition, "exported");
        string work = Path.Combine(StateDirectory, "vms", $".export-{Guid.NewGuid():N}");
        try
        {
            VmArchive.Write(definition, request.Path, work, cancellationToken);
        }
        finally
        {
            DeleteQuietly(work);
        }

        Registry.Record(name, "exported", $"archive {request.Path}");
        return new VmExportResult(request.Path, new FileInfo(request.Path).Length, definition.Disks.Count);
    }

    /// <summary>
    /// Creates a VM from an archive after checking every file against the manifest. With a new name the VM is a copy
    /// and gets new MACs; without one it keeps the archived name and MACs (a move to another host).
    /// </summary>
    public VmDefinition Import(VmImportRequest request, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(request.Path) || !Path.IsPathRooted(request.Path))
        {
            throw new VmValidationException(new Dictionary<string, string[]> { ["path"] = [$"path must be an absolute file name, not '{request.Path}'"] });
        }

        if (request.Name is not null)
        {
            CheckNewName(request.Name);
        }

        string staging = Path.Combine(StateDirectory, "vms", $".import-{Guid.NewGuid():N}");
        string? name = null;
        bool placed = false;
        try
        {
            var (manifest, files) = VmArchive.Read(request.Path, staging, cancellationToken);
            var archived = manifest.Definition!;
            name = CheckNewName(request.Name ?? archived.Name);
            string diskDirectory = Path.Combine(Paths(name).Directory, "disks");
            PrepareDiskDirectory(name, diskDirectory);
            placed = true;
            string Place(string entry)
            {
                string target = Path.Combine(diskDirectory, entry.Replace('/', '_'));
                File.Move(files[entry], target);
                return target;
            }

            var disks = archived.Disks.Select(d => d with { Path = Place(d.Path) }).ToList();
            string? kernel = archived.Kernel is { } k ? Place(k) : null;
            string? initrd = archived.Initrd is { } r ? Place(r) : null;
            string? firmware = archived.Firmware is { } f ? Place(f) : null;
            // Under a new name the import is a copy with its own identity; under the archived name it is a move and keeps it.
            var definition = Create(RequestFor(archived, name, disks, kernel, initrd, firmware, newMacs: request.Name is not null), request.Name is null ? archived.MachineId : null);
            Registry.Record(name, "imported", $"from {request.Path}");
            return definition;
        }
        catch when (placed && Registry.Find(name!) is null)
        {
            DeleteQuietly(Paths(name!).Directory);
            throw;
        }
        finally
        {
            DeleteQuietly(staging);
        }
    }

    private string CheckNewName(string? name)
    {
        // The validator's name rule, checked before any disk is copied.
        try
        {
            _validator.Validate(new VmCreateRequest { Name = name });
        }
        catch (VmValidationException e) when (e.Errors.ContainsKey("name"))
        {
            throw new VmValidationException(new Dictionary<string, string[]> { ["name"] = e.Errors["name"] });
        }
        catch (VmValidationException)
        {
            // Only the name is being checked here.
        }

        if (Registry.Find(name!) is not null)
        {
            throw new VmConflictException($"a VM named '{name}' already exists");
        }

        return name!;
    }

    /// <summary>
    /// A running VM's writable disks change under a copy, so such a VM must be stopped first. A running VM without
    /// writable disks (the default guest kit's initramfs VM) is its definition and shared read-only disks only, which
    /// do not change: it may be cloned or exported while it runs, and the copy boots fresh like any clone.
    /// </summary>
    private void EnsureQuiescent(VmDefinition definition, string action)
    {
        var state = Runtime(definition.Name).State;
        if (IsActive(state) && definition.Disks.Any(d => !d.ReadOnly))
        {
            throw new VmConflictException($"VM '{definition.Name}' is {state.ToString().ToLowerInvariant()} and has writable disks, which would change under the copy; stop it before it can be {action}");
        }
    }

    private static void PrepareDiskDirectory(string name, string diskDirectory)
    {
        if (Directory.Exists(diskDirectory) && Directory.EnumerateFileSystemEntries(diskDirectory).Any())
        {
            throw new VmConflictException($"{diskDirectory} already holds files (left from an earlier VM named '{name}'?); remove them first");
        }

        Directory.CreateDirectory(diskDirectory);
    }

    private static VmCreateRequest RequestFor(VmDefinition definition, string name, IReadOnlyList<VmDisk> disks, string? kernel, string? initrd, string? firmware, bool newMacs) => new()
    {
        Name = name,
        Cpus = definition.Cpus,
        Memory = $"{definition.MemoryBytes >> 20}M",
        Kernel = kernel,
        Initrd = initrd,
        Firmware = firmware,
        CommandLine = definition.CommandLine,
        Disks = disks,
        Nics = newMacs ? [.. definition.Nics.Select(NicIdentity.WithNewMac)] : definition.Nics,
        RestartPolicy = definition.RestartPolicy.ToName(),
    };

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
