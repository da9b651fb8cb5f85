namespace Vessel.Hosting;

/// <summary>Where a VM's runtime files live: <c>&lt;state-dir&gt;/vms/&lt;name&gt;/</c>.</summary>
public sealed class VmPaths(string stateDirectory, string name)
{
    public string Directory { get; } = Path.Combine(stateDirectory, "vms", name);

    public string Definition => Path.Combine(Directory, "definition.json");

    public string PidFile => Path.Combine(Directory, "worker.pid");

    public string ConsoleSocket => Path.Combine(Directory, "console.sock");

    public string ControlSocket => Path.Combine(Directory, "control.sock");

    public string ConsoleLog => Path.Combine(Directory, "console.log");

    public string WorkerLog => Path.Combine(Directory, "worker.log");

    public string ExitFile => Path.Combine(Directory, "exit.json");

    /// <summary>Snapshot state files: <c>snapshots/&lt;id&gt;.state</c>.</summary>
    public string SnapshotDirectory => Path.Combine(Directory, "snapshots");

    public string SnapshotState(string id) => Path.Combine(SnapshotDirectory, id + ".state");

    /// <summary>A snapshot's sparse copies of the writable disks that have no internal snapshots (raw, VHD, VMDK, VDI): <c>snapshots/&lt;id&gt;.disks/</c>.</summary>
    public string SnapshotDiskCopies(string id) => Path.Combine(SnapshotDirectory, id + ".disks");

    /// <summary>
    /// Read-only images of a snapshot's qcow2 disks as they were at the snapshot (<c>snapshot-bases/&lt;id&gt;/N.qcow2</c>):
    /// made for the first linked clone of that snapshot, shared by later ones, removed with the snapshot.
    /// </summary>
    public string SnapshotBases(string id) => Path.Combine(Directory, "snapshot-bases", id);

    /// <summary>The copy of the VM's disk number <paramref name="index"/> (its place in the definition's disk list).</summary>
    public string SnapshotDiskCopy(string id, int index) => Path.Combine(SnapshotDiskCopies(id), $"{index}.img");

    /// <summary>Left by a revert: the next worker start restores this snapshot instead of booting.</summary>
    public string RestoreRequest => Path.Combine(Directory, "restore.json");
}
