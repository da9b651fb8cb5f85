using System.Buffers.Binary;
using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

public sealed class Qcow2CheckerTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void FreshAndWrittenImagesAreClean()
    {
        string path = _temp.File("disk.qcow2");
        Qcow2Image.Create(path, 32 << 20);
        Assert.Equal(0, Qcow2Checker.Check(path).ExitCode);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(1 << 20, TestData.Pattern(300_000, 1));
        }

        var result = Qcow2Checker.Check(path);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(5UL, result.AllocatedClusters);
    }

    [Fact]
    public void LeakIsExitCode3AndCorruptionIsExitCode2()
    {
        string path = _temp.File("disk.qcow2");
        Qcow2Image.Create(path, 32 << 20);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, TestData.Pattern(65536, 1));
        }

        // The data cluster is the last cluster; its refcount is in the first refcount block.
        ulong refcountTable = ReadUInt64(path, 48);
        ulong block = ReadUInt64(path, (long)refcountTable);
        long fileClusters = new FileInfo(path).Length / 65536;

        // Leak: count one more cluster past the end of the file's used area.
        WriteUInt16(path, (long)block + (fileClusters * 2), 1);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength((fileClusters + 1) * 65536);
        }

        var leaked = Qcow2Checker.Check(path);
        Assert.Equal(3, leaked.ExitCode);
        Assert.Equal(1, leaked.LeakedClusters);

        // Corruption: the data cluster's refcount drops to zero while L2 still points to it.
        WriteUInt16(path, (long)block + ((fileClusters - 1) * 2), 0);
        var corrupt = Qcow2Checker.Check(path);
        Assert.Equal(2, corrupt.ExitCode);
        Assert.Contains(corrupt.Messages, m => m.StartsWith("ERROR cluster", StringComparison.Ordinal));
    }

    [QemuImgFact]
    public void ImagesFromQemuImgAreClean()
    {
        string raw = _temp.File("source.raw");
        Qcow2InteropTests.WriteRawPattern(raw, 8 << 20);
        foreach (string options in new[] { "compat=1.1", "compat=0.10", "cluster_size=4096" })
        {
            string path = _temp.File($"q-{options.Replace('=', '-')}.qcow2");
            QemuImg.Succeed("convert", "-c", "-O", "qcow2", "-o", options, raw, path);
            var result = Qcow2Checker.Check(path);
            Assert.True(result.IsClean, $"{options}: {string.Join('\n', result.Messages)}");
        }

        string snap = _temp.File("snap.qcow2");
        QemuImg.Succeed("convert", "-O", "qcow2", raw, snap);
        QemuImg.Succeed("snapshot", "-c", "first", snap);
        var withSnapshot = Qcow2Checker.Check(snap);
        Assert.True(withSnapshot.IsClean, string.Join('\n', withSnapshot.Messages));
    }

    [QemuImgFact]
    public void WritingImageWithSnapshotCopiesSharedClusters()
    {
        string raw = _temp.File("source.raw");
        Qcow2InteropTests.WriteRawPattern(raw, 4 << 20);
        string path = _temp.File("snap.qcow2");
        QemuImg.Succeed("convert", "-O", "qcow2", raw, path);
        QemuImg.Succeed("snapshot", "-c", "before", path);
        string expected = _temp.File("expected.raw");
        File.Copy(raw, expected);
        using (var disk = DiskImage.Open(path))
        using (var model = DiskImage.Open(expected, "raw"))
        {
            byte[] data = TestData.Pattern(100_000, 9);
            disk.Write(30_000 & ~511, data);
            model.Write(30_000 & ~511, data);
        }

        QemuImg.Succeed("check", path);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", path, expected);
        Assert.True(Qcow2Checker.Check(path).IsClean);

        // The snapshot still holds the old contents.
        string old = _temp.File("old.raw");
        QemuImg.Succeed("convert", "-l", "snapshot.name=before", "-O", "raw", path, old);
        Assert.Equal(File.ReadAllBytes(raw), File.ReadAllBytes(old));
    }

    private static ulong ReadUInt64(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        byte[] bytes = new byte[8];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    private static void WriteUInt16(string path, long offset, ushort value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        byte[] bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        stream.Position = offset;
        stream.Write(bytes);
    }
}
