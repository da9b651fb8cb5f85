using System.Buffers.Binary;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Machine.Tests;

/// <summary>
/// Disk snapshots taken by a paused machine: qcow2 disks take internal snapshots, raw disks are copied sparsely, and a
/// revert puts both back; without a place for copies a raw disk is refused, as before.
/// </summary>
public sealed class LiveDiskSnapshotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vessel-livedisk-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private MachineConfiguration Config(string raw, string qcow2)
    {
        string firmware = Path.Combine(_dir, "loop.bin");
        byte[] loop = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(loop, 0x0000_006F); // j .
        File.WriteAllBytes(firmware, loop);
        string kernel = Path.Combine(_dir, "kernel.bin");
        File.WriteAllBytes(kernel, [0x13, 0, 0, 0]);
        return new MachineConfiguration
        {
            FirmwarePath = firmware,
            KernelPath = kernel,
            MemorySize = 64UL << 20,
            Disks = [new DiskConfiguration(raw, "raw"), new DiskConfiguration(qcow2, "qcow2")],
        };
    }

    /// <summary>A raw and a qcow2 disk, both holding "before", and a machine configuration with them.</summary>
    private (string Raw, string Qcow2, MachineConfiguration Config) TwoDisks()
    {
        string raw = Path.Combine(_dir, "data.raw"), qcow2 = Path.Combine(_dir, "data.qcow2");
        WriteRaw(raw, "before");
        Qcow2Image.Create(qcow2, 8UL << 20);
        WriteImage(qcow2, "before");
        return (raw, qcow2, Config(raw, qcow2));
    }

    private string CopyPath(int index) => Path.Combine(_dir, "snap.disks", $"{index}.img");

    [Fact]
    public void RawAndQcow2DisksGoBackToTheSnapshot()
    {
        var (raw, qcow2, config) = TwoDisks();

        using (var machine = new VirtMachine(config, _ => { }))
        {
            machine.CreateDiskSnapshots("snap", CopyPath);
        }

        Assert.True(File.Exists(CopyPath(0)));
        Assert.False(File.Exists(CopyPath(1))); // the qcow2 disk holds its own snapshot
        WriteRaw(raw, "after!");
        WriteImage(qcow2, "after!");

        VirtMachine.ApplyDiskSnapshots(config, "snap", CopyPath);

        Assert.Equal("before", ReadImage(raw));
        Assert.Equal("before", ReadImage(qcow2));
    }

    [Fact]
    public void WithoutAPlaceForCopiesARawDiskIsRefusedBeforeAnythingIsTaken()
    {
        var (_, qcow2, config) = TwoDisks();
        using (var machine = new VirtMachine(config, _ => { }))
        {
            var e = Assert.Throws<DiskImageException>(() => machine.CreateDiskSnapshots("snap"));
            Assert.Contains("only qcow2 disks", e.Message);
        }

        using var image = (Qcow2Image)DiskImage.Open(qcow2, "qcow2", readOnly: true);
        Assert.Empty(image.ListSnapshots());
    }

    [Fact]
    public void AMissingCopyRefusesTheRevertAndLeavesEveryDiskAsItWas()
    {
        var (raw, qcow2, config) = TwoDisks();
        using (var machine = new VirtMachine(config, _ => { }))
        {
            machine.CreateDiskSnapshots("snap", CopyPath);
        }

        WriteRaw(raw, "after!");
        WriteImage(qcow2, "after!");
        File.Delete(CopyPath(0));

        var e = Assert.Throws<DiskImageException>(() => VirtMachine.ApplyDiskSnapshots(config, "snap", CopyPath));

        Assert.Contains("no copy", e.Message);
        Assert.Equal("after!", ReadImage(raw));
        Assert.Equal("after!", ReadImage(qcow2));
    }

    private static void WriteRaw(string path, string text)
    {
        using var file = File.Open(path, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        file.SetLength(8L << 20);
        file.Position = 1 << 20;
        file.Write(System.Text.Encoding.ASCII.GetBytes(text));
    }

    private static void WriteImage(string path, string text)
    {
        using var image = DiskImage.Open(path, "qcow2", readOnly: false);
        image.Write(1UL << 20, System.Text.Encoding.ASCII.GetBytes(text));
    }

    private static string ReadImage(string path)
    {
        using var image = DiskImage.Open(path, null, readOnly: true);
        byte[] buffer = new byte[6];
        image.Read(1UL << 20, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer);
    }
}
