using System.Buffers.Binary;
using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>Dirty images (left by a crash with lazy refcounts) get their refcounts rebuilt before Vessel writes.</summary>
public sealed class Qcow2DirtyImageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void StaleRefcountsAreRebuiltAndTheDirtyBitCleared()
    {
        string path = _temp.File("dirty.qcow2");
        Qcow2Image.Create(path, 16 << 20);
        byte[] data = TestData.Pattern(200_000, 8);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(65536, data);
        }

        // Simulate lazy refcounts lost in a crash: the refcount blocks say nothing is allocated after the metadata.
        long fileLength = new FileInfo(path).Length;
        ulong refcountTable = ReadUInt64(path, 48);
        ulong block = ReadUInt64(path, (long)refcountTable);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = (long)block + 8;
            stream.Write(new byte[(fileLength / 65536 * 2) - 8]);
            stream.Position = 72;
            stream.Write([0, 0, 0, 0, 0, 0, 0, 1]);
        }

        Assert.Equal(2, Qcow2Checker.Check(path).ExitCode);
        using (var readOnly = DiskImage.Open(path, readOnly: true))
        {
            Assert.Equal(data, TestData.ReadAll(readOnly, 65536, data.Length));
        }

        using (var disk = DiskImage.Open(path))
        {
            Assert.Equal(data, TestData.ReadAll(disk, 65536, data.Length));
            disk.Write(8 << 20, data);
        }

        Assert.False(DiskImageInspector.Inspect(path).Dirty);
        var check = Qcow2Checker.Check(path);
        Assert.True(check.IsClean, string.Join('\n', check.Messages));
    }

    [QemuImgFact]
    public void ImageQemuLeftDirtyIsRepairedOnOpen()
    {
        string path = _temp.File("lazy.qcow2");
        QemuImg.Succeed("create", "-f", "qcow2", "-o", "lazy_refcounts=on", path, "16M");
        string qemuIo = Path.Combine(Path.GetDirectoryName(QemuImg.Path!)!, "qemu-io");
        if (File.Exists(qemuIo))
        {
            // qemu-io's abort leaves the image as a crash would: dirty, with refcounts not written back.
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(qemuIo)
            {
                ArgumentList = { "-c", "write -P 0x5a 0 256k", "-c", "abort", path },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            process.WaitForExit(60_000);
            Assert.True(DiskImageInspector.Inspect(path).Dirty);
        }

        using (var disk = DiskImage.Open(path))
        {
            disk.Write(1 << 20, TestData.Pattern(65536, 1));
        }

        Assert.False(DiskImageInspector.Inspect(path).Dirty);
        QemuImg.Succeed("check", path);
        using var again = DiskImage.Open(path, readOnly: true);
        if (File.Exists(qemuIo))
        {
            Assert.All(TestData.ReadAll(again, 0, 256 << 10), b => Assert.Equal(0x5a, b));
        }
    }

    private static ulong ReadUInt64(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        byte[] bytes = new byte[8];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }
}
