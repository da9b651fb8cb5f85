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

        supervisor.Registry.Record(vm, "paused", "paused");
        return supervisor.Get(vm);
    }

    public async Task<VmInfo> ResumeAsync(string vm)
    {
        if (!await WorkerControlClient.ResumeAsync(RunningControlSocket(vm), ControlTimeout))
        {
            throw new VmConflictException($"VM '{vm}': its worker did not resume");
        }

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

        if (store.Find(vm, name) is not null)
        {
            throw new VmConflictException($"VM '{vm}' already has a snapshot named '{name}'");
        }

        var paths = new VmPaths(supervisor.StateDirectory, vm);
        var started = DateTime.UtcNow;
        string? error = await WorkerControlClient.SnapshotAsync(RunningControlSocket(vm), name, paths.SnapshotState(name), SnapshotTimeout);
        if (error is not null)
        {
            throw new VmConflictException($"VM '{vm}': snapshot '{name}' failed: {error}");
        }

        var snapshot = store.Add(vm, name, description ?? string.Empty); // the row last: a crash before it leaves nothing listed
        supervisor.Registry.Record(vm, "snapshot", $"snapshot '{name}' taken in {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms");
        return snapshot;
    }

    /// <summary>Restores <paramref name="name"/>: a running VM restarts from it at once, a stopped one on its next start.</summary>
    public async Task<VmInfo> RevertAsync(string vm, string name)
    {
        _ = store.Find(vm, name) ?? throw new VmConflictException($"VM '{vm}' has no snapshot named '{name}'");
        var paths = new VmPaths(supervisor.StateDirectory, vm);
        string temp = paths.RestoreRequest + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new RestoreRequest(name), Json));
        File.Move(temp, paths.RestoreRequest, overwrite: true);
        bool running = IsRunning(vm);
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
        _ = store.Find(vm, name) ?? throw new VmConflictException($"VM '{vm}' has no snapshot named '{name}'");
        var paths = new VmPaths(supervisor.StateDirectory, vm);
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

        File.Delete(paths.SnapshotState(name));
        store.Remove(vm, name);
        supervisor.Registry.Record(vm, "snapshot-deleted", $"snapshot '{name}' deleted");
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
