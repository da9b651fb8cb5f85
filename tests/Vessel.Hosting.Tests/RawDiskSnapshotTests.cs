namespace Vessel.Hosting.Tests;

/// <summary>A stopped VM with a writable raw disk: its disk-only snapshot is a sparse copy that revert puts back.</summary>
public sealed class RawDiskSnapshotTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("vessel-rawsnap-").FullName;

    [Fact]
    public async Task SnapshotWriteRevert_TheWriteIsGone()
    {
        string disk = Path.Combine(_state, "data.raw");
        using (var file = File.OpenHandle(disk, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, 16L << 20);
            RandomAccess.Write(file, "before"u8, 1 << 20);
        }

        using var supervisor = new VmSupervisor(_state, []);
        using var store = new VmSnapshotStore(Path.Combine(_state, "vessel.db"));
        var snapshots = new VmSnapshotService(supervisor, store);
        supervisor.Create(new VmCreateRequest { Name = "raw", Memory = "64M", Disks = [new VmDisk(disk, "raw")] });

        await snapshots.CreateAsync("raw", "s1", null);
        string copy = Path.Combine(_state, "vms", "raw", "snapshots", "s1.disks", "0.img");
        Assert.True(File.Exists(copy));

        using (var file = File.OpenHandle(disk, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(file, "after!"u8, 1 << 20);
        }

        await snapshots.RevertAsync("raw", "s1");
        Assert.Equal("before", ReadAt(disk, 1 << 20, 6));

        await snapshots.DeleteAsync("raw", "s1");
        Assert.False(Directory.Exists(Path.GetDirectoryName(copy)));
        Assert.Empty(snapshots.List("raw"));
    }

    [Fact]
    public async Task AVmdkWithItsDataInSeparateExtentFilesIsRefusedAndASingleFileOneIsCopied()
    {
        string flat = Path.Combine(_state, "flat.vmdk"), sparse = Path.Combine(_state, "sparse.vmdk");
        Vessel.Storage.Vmdk.VmdkImage.Create(flat, 8UL << 20, Vessel.Storage.Vmdk.VmdkSubformat.MonolithicFlat);
        Vessel.Storage.Vmdk.VmdkImage.Create(sparse, 8UL << 20, Vessel.Storage.Vmdk.VmdkSubformat.MonolithicSparse);
        using var supervisor = new VmSupervisor(_state, []);
        using var store = new VmSnapshotStore(Path.Combine(_state, "vessel.db"));
        var snapshots = new VmSnapshotService(supervisor, store);
        supervisor.Create(new VmCreateRequest { Name = "flat", Memory = "64M", Disks = [new VmDisk(flat, "vmdk")] });
        supervisor.Create(new VmCreateRequest { Name = "sparse", Memory = "64M", Disks = [new VmDisk(sparse, "vmdk")] });

        var e = await Assert.ThrowsAsync<VmConflictException>(() => snapshots.CreateAsync("flat", "s1", null));

        Assert.Contains("extents are separate files", e.Message);
        Assert.Empty(snapshots.List("flat"));
        await snapshots.CreateAsync("sparse", "s1", null);
        Assert.True(File.Exists(Path.Combine(_state, "vms", "sparse", "snapshots", "s1.disks", "0.img")));
    }

    private static string ReadAt(string path, long offset, int count)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        byte[] buffer = new byte[count];
        RandomAccess.Read(file, buffer, offset);
        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_state, recursive: true);
    }
}
