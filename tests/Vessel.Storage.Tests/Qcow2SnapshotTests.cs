using System.Buffers.Binary;
using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>Internal snapshots written by Vessel and by qemu-img, each read, applied and deleted by the other.</summary>
public sealed class Qcow2SnapshotTests : IDisposable
{
    private const ulong Size = 8UL << 20;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgFact]
    public void VesselWritesAfterQemuSnapshotCopyOnWrite()
    {
        string qcow = _temp.File("disk.qcow2");
        string before = _temp.File("before.raw");
        string after = _temp.File("after.raw");
        Qcow2Image.Create(qcow, Size, clusterBits: 12);
        WriteBoth(qcow, before, seed: 1);
        QemuImg.Succeed("snapshot", "-c", "s1", qcow);
        File.Copy(before, after);
        WriteBoth(qcow, after, seed: 2);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, after);

        QemuImg.Succeed("snapshot", "-a", "s1", qcow);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, before);
    }

    [QemuImgFact]
    public void QemuSnapshotTableIsListedAndAppliedByVessel()
    {
        string qcow = _temp.File("disk.qcow2");
        string before = _temp.File("before.raw");
        QemuImg.Succeed("create", "-f", "qcow2", qcow, Size.ToString());
        RawImage.Create(before, Size);
        WriteBoth(qcow, before, seed: 3);
        QemuImg.Succeed("snapshot", "-c", "first", qcow);
        QemuImg.Succeed("snapshot", "-c", "second", qcow);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            var list = image.ListSnapshots();
            Assert.Equal(["first", "second"], list.Select(s => s.Name));
            Assert.Equal(["1", "2"], list.Select(s => s.Id));
            Assert.All(list, s => Assert.Equal(Size, s.DiskSize));
            image.Write(4096, TestData.Pattern(70_000, 9));
            image.ApplySnapshot("first");
            image.DeleteSnapshot("2");
            Assert.Equal(["first"], image.ListSnapshots().Select(s => s.Name));
        }

        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, before);
        Assert.DoesNotContain("second", QemuImg.Succeed("snapshot", "-l", qcow));
    }

    [QemuImgTheory]
    [InlineData(9)]
    [InlineData(16)]
    public void VesselSnapshotIsListedAndAppliedByQemu(int clusterBits)
    {
        string qcow = _temp.File("disk.qcow2");
        string before = _temp.File("before.raw");
        string after = _temp.File("after.raw");
        Qcow2Image.Create(qcow, Size, clusterBits);
        WriteBoth(qcow, before, seed: 4);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            var snapshot = image.CreateSnapshot("vessel-snap");
            Assert.Equal("1", snapshot.Id);
        }

        QemuImg.Succeed("check", qcow);
        string list = QemuImg.Succeed("snapshot", "-l", qcow);
        Assert.Contains("vessel-snap", list);

        File.Copy(before, after);
        WriteBoth(qcow, after, seed: 5);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, after);
        QemuImg.Succeed("snapshot", "-a", "vessel-snap", qcow);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, before);
        QemuImg.Succeed("snapshot", "-d", "vessel-snap", qcow);
        QemuImg.Succeed("check", qcow);
    }

    [QemuImgFact]
    public void CreateApplyDeleteCycleKeepsImageClean()
    {
        string qcow = _temp.File("disk.qcow2");
        var raws = new List<string>();
        Qcow2Image.Create(qcow, Size, clusterBits: 12);
        string current = _temp.File("current.raw");
        RawImage.Create(current, Size);
        for (int round = 0; round < 3; round++)
        {
            WriteBoth(qcow, current, seed: 10 + round);
            using (var image = Qcow2Image.Open(qcow, readOnly: false))
            {
                image.CreateSnapshot($"s{round}");
            }

            string frozen = _temp.File($"s{round}.raw");
            File.Copy(current, frozen);
            raws.Add(frozen);
            QemuImg.Succeed("check", qcow);
        }

        WriteBoth(qcow, current, seed: 20);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            Assert.Throws<DiskImageException>(() => image.CreateSnapshot("s1"));
            Assert.Contains("no snapshot", Assert.Throws<DiskImageException>(() => image.ApplySnapshot("nope")).Message);
            image.ApplySnapshot("s1");
        }

        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raws[1]);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            image.DeleteSnapshot("s1");
            image.DeleteSnapshot("s0");
        }

        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raws[1]);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            image.ApplySnapshot("s2");
            image.DeleteSnapshot("s2");
            Assert.Empty(image.ListSnapshots());
        }

        string check = QemuImg.Succeed("check", "--output=json", qcow);
        Assert.DoesNotContain("leaks", check);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raws[2]);

        // Without snapshots every cluster is owned again: COPIED flags must be back (qemu-img check verifies them).
        Assert.True(Qcow2Checker.Check(qcow).IsClean);
    }

    [QemuImgFact]
    public void SnapshotOfCompressedAndBackedImage()
    {
        string baseRaw = _temp.File("base.raw");
        string baseQcow = _temp.File("base.qcow2");
        RawImage.Create(baseRaw, Size);
        using (var b = DiskImage.Open(baseRaw))
        {
            b.Write(0, TestData.Pattern((int)Size / 2, 30));
        }

        QemuImg.Succeed("convert", "-c", "-f", "raw", "-O", "qcow2", baseRaw, baseQcow);
        string overlay = _temp.File("overlay.qcow2");
        Qcow2Image.Create(overlay, Size, backingFile: "base.qcow2", backingFormat: "qcow2");
        string expected = _temp.File("expected.raw");
        File.Copy(baseRaw, expected);
        WriteBoth(overlay, expected, seed: 31);
        using (var image = Qcow2Image.Open(baseQcow, readOnly: false))
        {
            image.CreateSnapshot("compressed");
        }

        QemuImg.Succeed("check", baseQcow);
        using (var image = Qcow2Image.Open(overlay, readOnly: false))
        {
            image.CreateSnapshot("o1");
            image.Write(100_000, TestData.Pattern(300_000, 32));
            image.ApplySnapshot("o1");
        }

        QemuImg.Succeed("check", overlay);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", overlay, expected);
    }

    [QemuImgFact]
    public void CrashBeforeHeaderSwitchLeavesOnlyLeaks()
    {
        string qcow = _temp.File("crash.qcow2");
        string content = _temp.File("content.raw");
        Qcow2Image.Create(qcow, Size, clusterBits: 12);
        WriteBoth(qcow, content, seed: 40);
        using (var image = Qcow2Image.Open(qcow, readOnly: false))
        {
            image.CreateSnapshot("lost");
        }

        // Undo only the final header write (snapshot count and table offset): the state a crash just before it leaves.
        ImageFileEditor.PatchBigEndian(qcow, 60, 4, 0);
        ImageFileEditor.PatchBigEndian(qcow, 64, 8, 0);
        var (code, output) = QemuImg.Run("check", qcow);
        Assert.True(code == 3, output); // leaked clusters, no corruption
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, content);
        Assert.True(Qcow2Repairer.Repair(qcow, Qcow2RepairMode.All).After.IsClean);
        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, content);
    }

    [Fact]
    public void SnapshotTablePastEndOfFileIsRefused()
    {
        string path = CreateWithSnapshot();
        ImageFileEditor.PatchBigEndian(path, 64, 8, 1UL << 40);
        Assert.Contains("past the end", Refused(path));
    }

    [Fact]
    public void AbsurdSnapshotCountIsRefused()
    {
        string path = CreateWithSnapshot();
        ImageFileEditor.PatchBigEndian(path, 60, 4, 60_000);
        Assert.Contains("runs past the end", Refused(path));
        ImageFileEditor.PatchBigEndian(path, 60, 4, uint.MaxValue);
        Assert.Contains("snapshots", Refused(path));
    }

    [Fact]
    public void SnapshotL1SizeThatDoesNotFitIsRefused()
    {
        string path = CreateWithSnapshot();
        ulong table = ReadField(path, 64);
        ImageFileEditor.PatchBigEndian(path, (int)table + 8, 4, 0x7fff_ffff);
        Assert.Contains("L1 table of 2147483647 entries", Refused(path));
        ImageFileEditor.PatchBigEndian(path, (int)table + 8, 4, 1_000_000);
        Assert.Contains("past the end of the file", Refused(path));
    }

    [Fact]
    public void OversizedExtraDataIsRefused()
    {
        string path = CreateWithSnapshot();
        ulong table = ReadField(path, 64);
        ImageFileEditor.PatchBigEndian(path, (int)table + 36, 4, 1 << 20);
        Assert.Contains("extra data", Refused(path));
    }

    [Fact]
    public void SnapshotDiskSizeTooLargeToMapIsRefusedOnApply()
    {
        string path = CreateWithSnapshot();
        ulong table = ReadField(path, 64);
        ImageFileEditor.PatchBigEndian(path, (int)table + 48, 8, 1UL << 60);
        using var image = Qcow2Image.Open(path, readOnly: false);
        Assert.Contains("too large", Assert.Throws<DiskImageException>(() => image.ApplySnapshot("s")).Message);
    }

    [Fact]
    public void SnapshotL2PastEndOfFileIsRefusedBeforeAnyChange()
    {
        string path = CreateWithSnapshot();
        ulong table = ReadField(path, 64);
        ulong snapshotL1 = ReadField(path, (long)table);
        ImageFileEditor.PatchBigEndian(path, (int)snapshotL1, 8, 1UL << 40);
        byte[] before = File.ReadAllBytes(path);
        using (var image = Qcow2Image.Open(path, readOnly: false))
        {
            Assert.Contains("past the end", Assert.Throws<DiskImageException>(() => image.ApplySnapshot("s")).Message);
            Assert.Contains("past the end", Assert.Throws<DiskImageException>(() => image.DeleteSnapshot("s")).Message);
        }

        Assert.Equal(before, File.ReadAllBytes(path));
    }

    private string CreateWithSnapshot()
    {
        string path = _temp.File("snap.qcow2");
        Qcow2Image.Create(path, 1 << 20, clusterBits: 12);
        using var image = Qcow2Image.Open(path, readOnly: false);
        image.Write(0, TestData.Pattern(8192, 1));
        image.CreateSnapshot("s");
        return path;
    }

    /// <summary>Writes the same scattered data into the image and into a raw file of the expected content.</summary>
    private static void WriteBoth(string image, string raw, int seed)
    {
        if (!File.Exists(raw))
        {
            RawImage.Create(raw, Size);
        }

        using var a = DiskImage.Open(image);
        using var b = DiskImage.Open(raw);
        var random = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            int length = Math.Max(512, random.Next(1, 100_000) & ~511);
            ulong offset = (ulong)random.NextInt64(0, (long)(Size - (ulong)length)) & ~511UL;
            byte[] data = TestData.Pattern(length, seed * 1000 + i);
            a.Write(offset, data);
            b.Write(offset, data);
        }
    }

    private static string Refused(string path) =>
        Assert.Throws<DiskImageException>(() => DiskImage.Open(path, readOnly: true).Dispose()).Message;


    private static ulong ReadField(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        byte[] bytes = new byte[8];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }
}
