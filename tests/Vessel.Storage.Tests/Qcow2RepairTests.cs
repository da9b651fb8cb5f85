using System.Buffers.Binary;
using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary><c>check -r leaks|all</c>: damaged refcounts are set back to the counted references, then re-checked.</summary>
public sealed class Qcow2RepairTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgFact]
    public void LeakedClustersAreFreed()
    {
        string path = CreateImage(out ulong dataCluster);
        SetRefcount(path, 1, 3);
        SetRefcount(path, dataCluster, 2);
        Assert.Equal(3, Qcow2Checker.Check(path).ExitCode);
        Assert.NotEqual(0, QemuImg.Run("check", path).ExitCode);

        var result = Qcow2Repairer.Repair(path, Qcow2RepairMode.Leaks);
        Assert.Equal(2, result.Before.LeakedClusters);
        Assert.Equal(2, result.LeaksFixed);
        Assert.Contains($"Repairing cluster {dataCluster} refcount=2 reference=1", result.RepairMessages);
        Assert.True(result.After.IsClean);
        Assert.Equal(0, result.After.ExitCode);
        QemuImg.Succeed("check", path);
        AssertData(path);
    }

    [QemuImgFact]
    public void TooLowRefcountNeedsRepairAll()
    {
        string path = CreateImage(out ulong dataCluster);
        SetRefcount(path, dataCluster, 0);
        var leaksOnly = Qcow2Repairer.Repair(path, Qcow2RepairMode.Leaks);
        Assert.Equal(0, leaksOnly.CorruptionsFixed);
        Assert.Equal(2, leaksOnly.After.ExitCode);

        var all = Qcow2Repairer.Repair(path, Qcow2RepairMode.All);
        Assert.Equal(1, all.CorruptionsFixed);
        Assert.True(all.After.IsClean);
        QemuImg.Succeed("check", path);
        AssertData(path);

        // The repaired refcount protects the data: a new write must not land on it.
        using (var image = DiskImage.Open(path))
        {
            image.Write(1 << 20, TestData.Pattern(65536, 8));
        }

        QemuImg.Succeed("check", path);
        AssertData(path);
    }

    [QemuImgFact]
    public void CleanImageIsLeftAlone()
    {
        string path = CreateImage(out _);
        byte[] before = File.ReadAllBytes(path);
        var result = Qcow2Repairer.Repair(path, Qcow2RepairMode.All);
        Assert.True(result.Before.IsClean);
        Assert.Empty(result.RepairMessages);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [QemuImgFact]
    public void RepairAllClearsCorruptBitAndFixesCopiedFlags()
    {
        string path = CreateImage(out ulong dataCluster);
        ulong l2Entry = FirstL2EntryOffset(path);
        Patch(path, (long)l2Entry, dataCluster << 16); // COPIED flag cleared although refcount is 1
        Patch(path, 72, Qcow2Header.IncompatibleCorrupt);
        Assert.Equal(2, Qcow2Checker.Check(path).ExitCode);

        var result = Qcow2Repairer.Repair(path, Qcow2RepairMode.All);
        Assert.Equal(1, result.CorruptionsFixed);
        Assert.True(result.After.IsClean);
        QemuImg.Succeed("check", path);
        Assert.DoesNotContain("\"corrupt\": true", QemuImg.Succeed("info", "--output=json", path));
        DiskImage.Open(path).Dispose(); // writable again: the corrupt bit is gone
        AssertData(path);
    }

    [QemuImgFact]
    public void RepairKeepsSnapshotsIntact()
    {
        string path = CreateImage(out ulong dataCluster);
        QemuImg.Succeed("snapshot", "-c", "s1", path);
        using (var image = DiskImage.Open(path))
        {
            image.Write(0, TestData.Pattern(65536, 9)); // copy on write: the snapshot keeps the old cluster
        }

        SetRefcount(path, dataCluster, 3); // one reference (the snapshot's tree) but refcount 3
        SetRefcount(path, 0, 2);
        Assert.Equal(3, Qcow2Checker.Check(path).ExitCode);
        var result = Qcow2Repairer.Repair(path, Qcow2RepairMode.All);
        Assert.Equal(2, result.LeaksFixed);
        Assert.True(result.After.IsClean);
        QemuImg.Succeed("check", path);
        QemuImg.Succeed("snapshot", "-a", "s1", path);
        QemuImg.Succeed("check", path);
        AssertData(path);
    }

    private string CreateImage(out ulong dataCluster)
    {
        string path = _temp.File("disk.qcow2");
        Qcow2Image.Create(path, 4 << 20);
        using (var image = DiskImage.Open(path))
        {
            image.Write(0, TestData.Pattern(65536, 7));
        }

        dataCluster = (ReadField(path, (long)FirstL2EntryOffset(path)) & Qcow2Image.OffsetMask) >> 16;
        return path;
    }

    private static void AssertData(string path)
    {
        using var image = DiskImage.Open(path, readOnly: true);
        Assert.Equal(TestData.Pattern(65536, 7), TestData.ReadAll(image, 0, 65536));
    }

    private static ulong FirstL2EntryOffset(string path) => ReadField(path, (long)ReadField(path, 40)) & Qcow2Image.OffsetMask;

    private static void SetRefcount(string path, ulong cluster, ushort value)
    {
        ulong block = ReadField(path, (long)ReadField(path, 48));
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        byte[] bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        stream.Position = (long)(block + (cluster * 2));
        stream.Write(bytes);
    }

    private static void Patch(string path, long offset, ulong value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        stream.Position = offset;
        stream.Write(bytes);
    }

    private static ulong ReadField(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        byte[] bytes = new byte[8];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }
}
