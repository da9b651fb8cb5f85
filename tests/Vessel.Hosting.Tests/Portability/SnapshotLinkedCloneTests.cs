using System.Diagnostics;
using System.Text;
using Vessel.Hosting.Portability;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Hosting.Tests.Portability;

/// <summary>
/// Clones of a disk-only snapshot at the supervisor level: the snapshot's bases are written once, reused, pass
/// qemu-img check, and a clone exports as a self-contained archive. (Deletion rules: SnapshotApiTests.)
/// </summary>
public sealed class SnapshotLinkedCloneTests : IDisposable
{
    private const long First = 1 << 20;
    private const long Second = 2 << 20;
    private readonly string _state = Directory.CreateTempSubdirectory("vessel-snapclone-").FullName;
    private readonly VmSupervisor _supervisor;
    private readonly VmSnapshotStore _store;
    private readonly VmSnapshotService _snapshots;

    public SnapshotLinkedCloneTests()
    {
        _supervisor = new VmSupervisor(_state, []);
        _store = new VmSnapshotStore(Path.Combine(_state, "vessel.db"));
        _snapshots = new VmSnapshotService(_supervisor, _store);
    }

    [Fact]
    public async Task Qcow2Snapshot_CloneSeesTheSnapshotNotLaterWrites_AndPassesQemuImgCheck()
    {
        string disk = await SourceWithSnapshot("qcow2");

        var clone = _supervisor.Clone("src", new VmCloneRequest("c1", Linked: true, Snapshot: "s1"));

        string snapshotBase = Path.Combine(SnapshotBases("src", "s1"), "0.qcow2");
        Assert.Equal(snapshotBase, DiskImageInspector.Inspect(clone.Disks[0].Path).BackingFile);
        Assert.Equal("before", ReadAt(clone.Disks[0].Path, First, 6));
        Assert.Equal(new string('\0', 6), ReadAt(clone.Disks[0].Path, Second, 6));
        Assert.Equal("after!", ReadAt(disk, First, 6)); // the source keeps its later writes
        Assert.Equal("second", ReadAt(disk, Second, 6));
        using (var opened = Qcow2Image.Open(snapshotBase, readOnly: true))
        {
            Assert.Empty(opened.ListSnapshots()); // none of the source's history
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead, File.GetUnixFileMode(snapshotBase));
        }

        Assert.NotEqual(_supervisor.Registry.Get("src").Nics[0], clone.Nics[0]);
        Assert.NotEqual(_supervisor.Registry.Get("src").MachineId, clone.MachineId);

        QemuImg("check", snapshotBase);
        QemuImg("check", clone.Disks[0].Path);
        string chain = QemuImg("info", "--backing-chain", clone.Disks[0].Path);
        Assert.Contains($"backing file: {snapshotBase}", chain, StringComparison.Ordinal);
        Assert.Equal(2, chain.Split("image: ").Length - 1);
    }

    [Fact]
    public async Task RawSnapshot_CloneIsBackedByTheSnapshotsCopy()
    {
        await SourceWithSnapshot("raw");

        var clone = _supervisor.Clone("src", new VmCloneRequest("c1", Linked: true, Snapshot: "s1"));

        Assert.Equal("before", ReadAt(clone.Disks[0].Path, First, 6));
        Assert.Equal(new string('\0', 6), ReadAt(clone.Disks[0].Path, Second, 6));
        QemuImg("check", clone.Disks[0].Path);
    }

    [Fact]
    public async Task SecondCloneOfTheSameSnapshot_ReusesTheBase()
    {
        await SourceWithSnapshot("qcow2");
        var first = _supervisor.Clone("src", new VmCloneRequest("c1", Linked: true, Snapshot: "s1"));
        string snapshotBase = DiskImageInspector.Inspect(first.Disks[0].Path).BackingFile!;
        var written = File.GetLastWriteTimeUtc(snapshotBase);

        var second = _supervisor.Clone("src", new VmCloneRequest("c2", Linked: true, Snapshot: "s1"));

        Assert.Equal(snapshotBase, DiskImageInspector.Inspect(second.Disks[0].Path).BackingFile);
        Assert.Equal(written, File.GetLastWriteTimeUtc(snapshotBase));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(snapshotBase)!)); // no scratch or temp file left
        Assert.Equal("before", ReadAt(second.Disks[0].Path, First, 6));
    }

    [Fact]
    public async Task ExportOfTheClone_IsSelfContained()
    {
        await SourceWithSnapshot("qcow2");
        _supervisor.Clone("src", new VmCloneRequest("c1", Linked: true, Snapshot: "s1"));
        string archive = Path.Combine(_state, "c1.vessel");

        _supervisor.Export("c1", new VmExportRequest(archive));
        var imported = _supervisor.Import(new VmImportRequest(archive, "c1-copy"));

        Assert.Null(DiskImageInspector.Inspect(imported.Disks[0].Path).BackingFile);
        Assert.Equal("before", ReadAt(imported.Disks[0].Path, First, 6));
        Assert.Equal(new string('\0', 6), ReadAt(imported.Disks[0].Path, Second, 6));
    }

    [Fact]
    public async Task DiskWithoutTheSnapshot_IsRefusedWithAMessage()
    {
        await SourceWithSnapshot("qcow2");
        string other = Path.Combine(_state, "other.qcow2");
        Qcow2Image.Create(other, 16UL << 20);
        _supervisor.Create(new VmCreateRequest { Name = "three", Memory = "64M", Disks = [new VmDisk(other, "qcow2")] });
        await _snapshots.CreateAsync("three", "other", null);
        _store.Add("three", "s1", string.Empty); // listed, but its disk holds no such snapshot

        var e = Assert.Throws<VmConflictException>(() => _supervisor.Clone("three", new VmCloneRequest("c3", Linked: true, Snapshot: "s1")));

        Assert.Contains("has no snapshot 's1'", e.Message, StringComparison.Ordinal);
        Assert.Null(_supervisor.Registry.Find("c3"));
    }

    private string SnapshotBases(string vm, string snapshot) => Path.Combine(_state, "vms", vm, "snapshot-bases", snapshot);

    /// <summary>VM "src" with one writable disk: "before" written, disk-only snapshot s1, then "after!" over it and "second" further on.</summary>
    private async Task<string> SourceWithSnapshot(string format)
    {
        string disk = Path.Combine(_state, "data." + format);
        if (format == "qcow2")
        {
            Qcow2Image.Create(disk, 16UL << 20);
        }
        else
        {
            using var file = File.OpenHandle(disk, FileMode.CreateNew, FileAccess.ReadWrite);
            RandomAccess.SetLength(file, 16L << 20);
        }

        WriteAt(disk, format, First, "before");
        _supervisor.Create(new VmCreateRequest { Name = "src", Memory = "64M", Disks = [new VmDisk(disk, format)], Nics = ["user,mac=52:54:00:00:00:01"] });
        await _snapshots.CreateAsync("src", "s1", null);
        WriteAt(disk, format, First, "after!");
        WriteAt(disk, format, Second, "second");
        return disk;
    }

    private static void WriteAt(string path, string format, long offset, string text)
    {
        using var image = DiskImage.Open(path, format, readOnly: false);
        image.Write((ulong)offset, Encoding.ASCII.GetBytes(text));
        image.Flush();
    }

    private static string ReadAt(string path, long offset, int count)
    {
        using var image = DiskImage.Open(path, null, readOnly: true);
        byte[] buffer = new byte[count];
        image.Read((ulong)offset, buffer);
        return Encoding.ASCII.GetString(buffer);
    }

    private static string QemuImg(params string[] arguments)
    {
        var start = new ProcessStartInfo("qemu-img") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start qemu-img");
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "qemu-img did not finish");
        Assert.True(process.ExitCode == 0, $"qemu-img {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{stdout.Result}{stderr}");
        return stdout.Result;
    }

    public void Dispose()
    {
        _store.Dispose();
        _supervisor.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_state, recursive: true);
    }
}
