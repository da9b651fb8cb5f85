using System.Text.Json;
using System.Text.RegularExpressions;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Hosting;

/// <summary>
/// Pause/resume and snapshots for the supervisor (issue 6, DESIGN.md §5): create asks the running worker to pause,
/// write its state and snapshot its disks, then records the row; revert leaves a restore request and restarts the
/// worker, which restores instead of booting; delete drops the disks' snapshots, the state file and the row.
/// </summary>
public sealed partial class VmSnapshotService(VmSupervisor supervisor, VmSnapshotStore store)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan SnapshotTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SnapshotName();

    public async Task<VmInfo> PauseAsync(string vm)
    {
        if (!await WorkerControlClient.PauseAsync(RunningControlSocket(vm), SnapshotTimeout))
        {
            throw new VmConflictException($"VM '{vm}': its worker did not pause");
        }

        supervisor.SetPaused(vm, true);
        supervisor.Registry.Record(vm, "paused", "paused");
        return supervisor.Get(vm);
    }

    public async Task<VmInfo> ResumeAsync(string vm)
    {
        if (!await WorkerControlClient.ResumeAsync(RunningControlSocket(vm), ControlTimeout))
        {
            throw new VmConflictException($"VM '{vm}': its worker did not resume");
        }

        supervisor.SetPaused(vm, false);
        supervisor.Registry.Record(vm, "resumed", "resumed");
        return supervisor.Get(vm);
    }

    public IReadOnlyList<VmSnapshot> List(string vm)
    {
        supervisor.Registry.Get(vm);
        return store.List(vm);
    }

    public async Task<VmSnapshot> CreateAsync(string vm, string name, string? description)
    {
        if (!SnapshotName().IsMatch(name))
        {
            throw new VmValidationException(new Dictionary<string, string[]>
            {
                ["name"] = [$"snapshot name '{name}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"],
            });
        }

        supervisor.Registry.Get(vm); // 404 before anything else
        if (store.Find(vm, name) is not null)
        {
            throw new VmConflictException($"VM '{vm}' already has a snapshot named '{name}'");
        }

        var paths = new VmPaths(supervisor.StateDirectory, vm);
        var started = DateTime.UtcNow;
        var info = supervisor.Get(vm);
        if (info.State is "stopped" or "crashed" or "failed")
        {
            // Like VirtualBox's snapshot of a powered-off VM: the disks only; reverting to it leaves the VM stopped.
            CreateDiskOnlySnapshot(vm, name);
        }
        else
        {
            string? error = await WorkerControlClient.SnapshotAsync(RunningControlSocket(vm), name, paths.SnapshotState(name), SnapshotTimeout);
            if (error is not null)
            {
                throw new VmConflictException($"VM '{vm}': snapshot '{name}' failed: {error}");
            }
        }

        var snapshot = store.Add(vm, name, description ?? string.Empty); // the row last: a crash before it leaves nothing listed
        string kind = info.State is "stopped" or "crashed" or "failed" ? "disk-only snapshot" : "snapshot";
        supervisor.Registry.Record(vm, "snapshot", $"{kind} '{name}' taken in {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms");
        return snapshot;
    }

    /// <summary>
    /// Restores <paramref name="name"/>: a running VM restarts from a live snapshot at once, a stopped one on its next
    /// start. A disk-only snapshot (taken while stopped) puts the disks back and leaves the VM stopped.
    /// </summary>
    public async Task<VmInfo> RevertAsync(string vm, string name)
    {
        RequireSnapshot(vm, name);
        var paths = new VmPaths(supervisor.StateDirectory, vm);
        bool running = IsRunning(vm);
        if (!File.Exists(paths.SnapshotState(name)))
        {
            if (running)
            {
                await supervisor.StopAsync(vm, StopWait);
            }

            if (File.Exists(paths.RestoreRequest))
            {
                File.Delete(paths.RestoreRequest); // a pending live revert would otherwise override these disks at the next start
            }

            var images = OpenWritableDisks(vm, out var copied);
            try
            {
                // Every copy must be there before any disk changes, so a refused revert leaves all disks as they were.
                foreach (var (index, disk) in copied)
                {
                    if (!File.Exists(DiskCopyPath(vm, name, index)))
                    {
                        throw new VmConflictException($"VM '{vm}': snapshot '{name}' holds no copy of disk {disk.Path} (was it added after the snapshot?)");
                    }
                }

                foreach (var image in images)
                {
                    image.ApplySnapshot(name);
                }

                foreach (var (index, disk) in copied)
                {
                    SparseFileCopy.Copy(DiskCopyPath(vm, name, index), disk.Path, overwrite: true);
                }
            }
            finally
            {
                foreach (var image in images)
                {
                    image.Dispose();
                }
            }

            store.SetCurrent(vm, name);
            supervisor.Registry.Record(vm, "revert", $"disks reverted to disk-only snapshot '{name}'; the VM stays stopped");
            return supervisor.Get(vm);
        }

        string temp = paths.RestoreRequest + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new RestoreRequest(name), Json));
        File.Move(temp, paths.RestoreRequest, overwrite: true);
        if (running)
        {
            await supervisor.StopAsync(vm, StopWait);
        }

        store.SetCurrent(vm, name);
        supervisor.Registry.Record(vm, "revert", $"reverted to snapshot '{name}'");
        return running ? supervisor.Start(vm) : supervisor.Get(vm);
    }

    public async Task DeleteAsync(string vm, string name)
    {
        RequireSnapshot(vm, name);
        var paths = new VmPaths(supervisor.StateDirectory, vm);
        if (Portability.LinkedCloneGuard.DependentsOnFilesUnder([paths.SnapshotBases(name), paths.SnapshotDiskCopies(name)], supervisor.Registry.List(), vm) is { Count: > 0 } clones)
        {
            throw new VmConflictException(
                $"VM '{vm}': snapshot '{name}' cannot be deleted: it backs linked clone{(clones.Count > 1 ? "s" : string.Empty)} {string.Join(", ", clones.Select(c => $"'{c}'"))}; delete the clones first");
        }

        if (IsRunning(vm))
        {
            if (await WorkerControlClient.DeleteSnapshotAsync(paths.ControlSocket, name, ControlTimeout) is { } error)
            {
                throw new VmConflictException($"VM '{vm}': deleting snapshot '{name}' failed: {error}");
            }
        }
        else
        {
            foreach (var disk in supervisor.Registry.Get(vm).Disks.Where(d => !d.ReadOnly))
            {
                using var backend = DiskImage.Open(disk.Path, disk.Format, readOnly: false);
                if (backend is Qcow2Image image && image.ListSnapshots().Any(s => s.Name == name))
                {
                    image.DeleteSnapshot(name);
                }
            }
        }

        if (File.Exists(paths.RestoreRequest) && File.ReadAllText(paths.RestoreRequest).Contains($"\"{name}\"", StringComparison.Ordinal))
        {
            File.Delete(paths.RestoreRequest);
        }

        if (File.Exists(paths.SnapshotState(name)))
        {
            File.Delete(paths.SnapshotState(name));
        }

        if (Directory.Exists(DiskCopyDirectory(vm, name)))
        {
            Directory.Delete(DiskCopyDirectory(vm, name), recursive: true);
        }

        if (Directory.Exists(paths.SnapshotBases(name)))
        {
            Directory.Delete(paths.SnapshotBases(name), recursive: true); // images only clones of it used, and none is left
        }

        store.Remove(vm, name);
        supervisor.Registry.Record(vm, "snapshot-deleted", $"snapshot '{name}' deleted");
    }

    /// <summary>Throws <see cref="VmNotFoundException"/> or <see cref="VmSnapshotNotFoundException"/> unless both exist.</summary>
    public void RequireSnapshot(string vm, string name)
    {
        supervisor.Registry.Get(vm);
        _ = store.Find(vm, name) ?? throw new VmSnapshotNotFoundException(vm, name);
    }

    /// <summary>Internal snapshot <paramref name="name"/> of every writable disk of a stopped VM, all or none.</summary>
    private void CreateDiskOnlySnapshot(string vm, string name)
    {
        var writable = supervisor.Registry.Get(vm).Disks.Where(d => !d.ReadOnly).ToList();
        if (writable.Count == 0)
        {
            throw new VmConflictException($"VM '{vm}' is stopped and has no writable disk, so a snapshot of it would hold nothing; start it to take a live snapshot");
        }

        var images = OpenWritableDisks(vm, out var copied);
        var taken = new List<Qcow2Image>();
        string copies = DiskCopyDirectory(vm, name);
        try
        {
            // Disks without internal snapshots (raw, VHD, VMDK) are copied whole but sparse: the snapshot costs
            // their allocated data (or nothing until written, with a reflink).
            foreach (var (index, disk) in copied)
            {
                Directory.CreateDirectory(copies);
                SparseFileCopy.Copy(disk.Path, DiskCopyPath(vm, name, index));
            }

            foreach (var image in images)
            {
                image.CreateSnapshot(name);
                taken.Add(image);
            }
        }
        catch
        {
            foreach (var image in taken)
            {
                image.DeleteSnapshot(name);
            }

            if (Directory.Exists(copies))
            {
                Directory.Delete(copies, recursive: true);
            }

            throw;
        }
        finally
        {
            foreach (var image in images)
            {
                image.Dispose();
            }
        }
    }

    /// <summary>Where a snapshot keeps its sparse copies of the non-qcow2 disks (live snapshots use the same place).</summary>
    private string DiskCopyDirectory(string vm, string name) => new VmPaths(supervisor.StateDirectory, vm).SnapshotDiskCopies(name);

    private string DiskCopyPath(string vm, string name, int index) => new VmPaths(supervisor.StateDirectory, vm).SnapshotDiskCopy(name, index);

    /// <summary>
    /// Opens the (stopped) VM's writable qcow2 disks, which hold internal snapshots; <paramref name="copied"/> gets the
    /// other writable disks with their index among the VM's disks, which a snapshot copies instead.
    /// </summary>
    private List<Qcow2Image> OpenWritableDisks(string vm, out List<(int Index, VmDisk Disk)> copied)
    {
        var images = new List<Qcow2Image>();
        copied = [];
        try
        {
            var disks = supervisor.Registry.Get(vm).Disks;
            for (int index = 0; index < disks.Count; index++)
            {
                var disk = disks[index];
                if (disk.ReadOnly)
                {
                    continue;
                }

                var backend = DiskImage.Open(disk.Path, disk.Format, readOnly: false);
                if (backend is Storage.Vmdk.VmdkImage { IsSingleFile: false })
                {
                    backend.Dispose();
                    throw new VmConflictException($"VM '{vm}': disk {disk.Path} is a VMDK whose extents are separate files, which a snapshot copy would miss; convert it (vessel img convert -O qcow2) or attach it read-only");
                }

                if (backend is not Qcow2Image image)
                {
                    backend.Dispose();
                    copied.Add((index, disk));
                    continue;
                }

                images.Add(image);
            }

            return images;
        }
        catch
        {
            foreach (var image in images)
            {
                image.Dispose();
            }

            throw;
        }
    }

    private bool IsRunning(string vm) => supervisor.Get(vm).State == "running";

    private string RunningControlSocket(string vm)
    {
        var info = supervisor.Get(vm);
        if (info.State != "running")
        {
            throw new VmConflictException($"VM '{vm}' is not running (it is {info.State})");
        }

        return new VmPaths(supervisor.StateDirectory, vm).ControlSocket;
    }
}
