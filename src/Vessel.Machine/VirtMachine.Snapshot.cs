using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Machine;

/// <summary>Whole-machine snapshots (DESIGN.md §5): device state + sparse RAM in one file, disks as qcow2 internal snapshots.</summary>
public sealed partial class VirtMachine
{
    private const ushort MachineSectionVersion = 1;

    /// <summary>
    /// Writes every hart, device and RAM to <paramref name="path"/> (atomically). The machine must be paused or not
    /// running, so the state is one instant.
    /// </summary>
    public void SaveState(string path)
    {
        RequireQuiet("save its state");
        MachineStateFile.Write(path, _harts.Length, CaptureDeviceState(), _ram);
    }

    /// <summary>The non-RAM state: the "machine" section, then harts, CLINT, UART, RTC, virtio transports, PLIC.</summary>
    public byte[] CaptureDeviceState()
    {
        var writer = new StateWriter();
        writer.BeginSection("machine", MachineSectionVersion);
        writer.WriteUInt64(Clock.Now);
        writer.WriteInt32(_harts.Length);
        writer.WriteUInt64(_ram.Size);
        writer.WriteInt32(_transports.Count);
        writer.EndSection();
        foreach (var hart in _harts)
        {
            hart.SaveState(writer);
        }

        _clint.SaveState(writer);
        Uart.SaveState(writer);
        _rtc.SaveState(writer);
        foreach (var transport in _transports)
        {
            transport.SaveState(writer);
        }

        _plic.SaveState(writer); // last on load: it drives the harts' external-interrupt lines to the saved levels
        return writer.ToArray();
    }

    /// <summary>Replaces the non-RAM state with <paramref name="state"/> from <see cref="CaptureDeviceState"/>.</summary>
    public void LoadDeviceState(byte[] state)
    {
        RequireQuiet("load a state");
        var reader = new StateReader(state);
        reader.BeginSection("machine", MachineSectionVersion);
        ulong mtime = reader.ReadUInt64();
        int harts = reader.ReadInt32();
        ulong ramSize = reader.ReadUInt64();
        int transports = reader.ReadInt32();
        reader.Require(harts == _harts.Length, $"the state has {harts} vCPUs but this machine has {_harts.Length}");
        reader.Require(ramSize == _ram.Size, $"the state has {ramSize >> 20} MiB of RAM but this machine has {_ram.Size >> 20} MiB");
        reader.Require(transports == _transports.Count, $"the state has {transports} virtio devices but this machine has {_transports.Count}");
        reader.EndSection();
        Clock.Set(mtime);
        foreach (var hart in _harts)
        {
            hart.LoadState(reader);
        }

        _clint.LoadState(reader);
        Uart.LoadState(reader);
        _rtc.LoadState(reader);
        foreach (var transport in _transports)
        {
            transport.LoadState(reader);
        }

        _plic.LoadState(reader);
        reader.Require(reader.AtEnd, "unexpected data after the last device");
    }

    /// <summary>
    /// Builds a machine from <paramref name="statePath"/>: RAM is mapped copy-on-write from the file, so restore costs
    /// about the page-table set-up; the guest clock is frozen at the saved mtime until <see cref="Run"/>. The disks
    /// in <paramref name="config"/> must already hold the snapshot's contents (see <see cref="ApplyDiskSnapshots"/>).
    /// </summary>
    public static VirtMachine Restore(MachineConfiguration config, string statePath, Action<byte> consoleOutput)
    {
        var contents = MachineStateFile.Read(statePath);
        if (contents.RamSize != config.MemorySize)
        {
            throw new MachineStateException($"{statePath}: saved with {contents.RamSize >> 20} MiB of RAM; the VM now has {config.MemorySize >> 20} MiB.");
        }

        if (contents.HartCount != config.CpuCount)
        {
            throw new MachineStateException($"{statePath}: saved with {contents.HartCount} vCPUs; the VM now has {config.CpuCount}.");
        }

        GuestMemory ram;
        try
        {
            ram = GuestMemory.MapPrivate(VirtMemoryMap.RamBase, contents.RamSize, statePath, contents.RamOffset);
        }
        catch (IOException e)
        {
            throw new MachineStateException($"{statePath}: cannot map RAM: {e.Message}");
        }

        VirtMachine machine;
        try
        {
            machine = new VirtMachine(config, consoleOutput, ram);
        }
        catch
        {
            ram.Dispose();
            throw;
        }

        try
        {
            machine.Clock.Freeze();
            machine.LoadDeviceState(contents.DeviceState);
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Flushes every disk and snapshots each writable one as <paramref name="id"/>, while paused, so disks and RAM are
    /// the same instant: qcow2 disks take an internal snapshot; raw, VHD and VDI disks, which have no such thing,
    /// are copied sparsely (a reflink where the filesystem has them) to
    /// <paramref name="copyPath"/>(disk index). Without <paramref name="copyPath"/> such disks, and writable VMDK
    /// disks (possibly several extent files) always, are refused before anything is taken. Read-only disks never change and need nothing. All or nothing: a failure undoes what was
    /// taken.
    /// </summary>
    public void CreateDiskSnapshots(string id, Func<int, string>? copyPath = null)
    {
        RequireQuiet("snapshot its disks");
        for (int i = 0; i < _disks.Count; i++)
        {
            if (!_disks[i].IsReadOnly && _disks[i] is not Qcow2Image && (copyPath is null || !SparseFileCopy.CanCopyOpenImage(_disks[i])))
            {
                string which = copyPath is null ? "qcow2" : "qcow2, raw, VHD and VDI";
                throw new DiskImageException($"{_config.Disks[i].Path}: only {which} disks can be snapshotted with a running VM; convert it (vessel img convert -O qcow2) or attach it read-only.");
            }
        }

        var taken = new List<Qcow2Image>();
        var copies = new List<string>();
        try
        {
            for (int i = 0; i < _disks.Count; i++)
            {
                var disk = _disks[i];
                disk.Flush(); // the image's own metadata and data reach the file before it is copied or snapshotted
                if (disk.IsReadOnly)
                {
                    continue;
                }

                if (disk is Qcow2Image qcow2)
                {
                    qcow2.CreateSnapshot(id);
                    taken.Add(qcow2);
                }
                else
                {
                    string copy = copyPath!(i);
                    Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                    copies.Add(copy);
                    SparseFileCopy.Copy(disk, copy); // through the open image: the VM holds the file exclusively
                }
            }
        }
        catch
        {
            foreach (var qcow2 in taken)
            {
                qcow2.DeleteSnapshot(id);
            }

            foreach (string copy in copies)
            {
                File.Delete(copy);
            }

            throw;
        }
    }

    /// <summary>
    /// Puts each writable disk of <paramref name="config"/> back to snapshot <paramref name="id"/> (VM not running):
    /// qcow2 disks apply their internal snapshot, the others are replaced by their copy at
    /// <paramref name="copyPath"/>(disk index). Every copy is checked to exist before any disk changes, so a refused
    /// revert leaves all disks as they were.
    /// </summary>
    public static void ApplyDiskSnapshots(MachineConfiguration config, string id, Func<int, string>? copyPath = null)
    {
        var copied = new List<(string Copy, string Disk)>();
        for (int i = 0; i < config.Disks.Count; i++)
        {
            var disk = config.Disks[i];
            if (disk.ReadOnly)
            {
                continue;
            }

            using var backend = DiskImage.Open(disk.Path, disk.Format, readOnly: true);
            if (backend is Qcow2Image)
            {
                continue;
            }

            string? copy = copyPath?.Invoke(i);
            if (copy is null || !File.Exists(copy))
            {
                throw new DiskImageException($"{disk.Path}: snapshot '{id}' holds no copy of this disk (was it added after the snapshot?)");
            }

            copied.Add((copy, disk.Path));
        }

        ForEachSnapshotDisk(config, image => image.ApplySnapshot(id));
        foreach (var (copy, disk) in copied)
        {
            SparseFileCopy.Copy(copy, disk, overwrite: true);
        }
    }

    /// <summary>Drops internal snapshot <paramref name="id"/> from each writable qcow2 disk that has it (VM not running).</summary>
    public static void DeleteDiskSnapshots(MachineConfiguration config, string id) =>
        ForEachSnapshotDisk(config, image =>
        {
            if (image.ListSnapshots().Any(s => s.Name == id))
            {
                image.DeleteSnapshot(id);
            }
        });

    /// <summary>Same, on this machine's open disks (the running worker deletes a snapshot without closing them).</summary>
    public void DeleteOpenDiskSnapshots(string id)
    {
        foreach (var disk in _disks)
        {
            if (!disk.IsReadOnly && disk is Qcow2Image image && image.ListSnapshots().Any(s => s.Name == id))
            {
                image.DeleteSnapshot(id);
            }
        }
    }

    private static void ForEachSnapshotDisk(MachineConfiguration config, Action<Qcow2Image> action)
    {
        foreach (var disk in config.Disks.Where(d => !d.ReadOnly))
        {
            using var backend = DiskImage.Open(disk.Path, disk.Format, readOnly: false);
            if (backend is Qcow2Image image)
            {
                action(image);
            }
        }
    }

    private void RequireQuiet(string what)
    {
        if (Volatile.Read(ref _running) && !_pauseRequested)
        {
            throw new InvalidOperationException($"Pause the machine before asking it to {what}.");
        }
    }
}
