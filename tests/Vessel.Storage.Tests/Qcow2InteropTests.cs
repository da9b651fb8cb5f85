using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>qcow2 images written by Vessel checked by qemu-img, and images written by qemu-img read by Vessel.</summary>
public sealed class Qcow2InteropTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgFact]
    public void FreshImageIsCleanForQemuImg()
    {
        string path = _temp.File("fresh.qcow2");
        Qcow2Image.Create(path, 10UL << 30);
        QemuImg.Succeed("check", path);
        string info = QemuImg.Succeed("info", "--output=json", path);
        Assert.Contains("\"virtual-size\": 10737418240", info);
        Assert.Contains("\"compat\": \"1.1\"", info);
    }

    [QemuImgTheory]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(16)]
    [InlineData(21)]
    public void WrittenImageMatchesRawCopy(int clusterBits)
    {
        string qcow = _temp.File("disk.qcow2");
        string raw = _temp.File("disk.raw");
        ulong size = (64UL << 20) + 4096; // not a multiple of the cluster size
        Qcow2Image.Create(qcow, size, clusterBits);
        RawImage.Create(raw, size);
        using (var a = DiskImage.Open(qcow))
        using (var b = DiskImage.Open(raw))
        {
            var random = new Random(clusterBits);
            for (int i = 0; i < 300; i++)
            {
                int length = random.Next(1, 200_000) & ~511;
                length = Math.Max(length, 512);
                ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length)) & ~511UL;
                byte[] data = TestData.Pattern(length, i);
                a.Write(offset, data);
                b.Write(offset, data);
                if (i % 50 == 7)
                {
                    a.WriteZeroes(offset, (ulong)length);
                    b.WriteZeroes(offset, (ulong)length);
                }

                if (i % 50 == 21)
                {
                    a.Flush();
                }
            }

            a.Write(size - 512, TestData.Pattern(512, 99));
            b.Write(size - 512, TestData.Pattern(512, 99));
        }

        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);
    }

    [QemuImgFact]
    public void ReadsImagesWrittenByQemu()
    {
        foreach (string compat in new[] { "1.1", "0.10" })
        {
            string raw = _temp.File($"source-{compat}.raw");
            WriteRawPattern(raw, 24UL << 20);
            string qcow = _temp.File($"q-{compat}.qcow2");
            QemuImg.Succeed("convert", "-f", "raw", "-O", "qcow2", "-o", $"compat={compat}", raw, qcow);
            AssertSameContent(qcow, raw);

            string compressed = _temp.File($"c-{compat}.qcow2");
            QemuImg.Succeed("convert", "-c", "-f", "raw", "-O", "qcow2", "-o", $"compat={compat}", raw, compressed);
            AssertSameContent(compressed, raw);
        }
    }

    [QemuImgFact]
    public void WritesVersion2Images()
    {
        string qcow = _temp.File("v2.qcow2");
        string raw = _temp.File("v2.raw");
        QemuImg.Succeed("create", "-f", "qcow2", "-o", "compat=0.10,cluster_size=4096", qcow, "8M");
        RawImage.Create(raw, 8 << 20);
        using (var a = DiskImage.Open(qcow))
        using (var b = DiskImage.Open(raw))
        {
            Assert.Equal(2u, ((Qcow2Image)a).Version);
            var random = new Random(2);
            for (int i = 0; i < 200; i++)
            {
                int length = random.Next(1, 64) * 512;
                ulong offset = (ulong)random.Next(0, ((8 << 20) - length) / 512) * 512;
                byte[] data = TestData.Pattern(length, i);
                a.Write(offset, data);
                b.Write(offset, data);
                if (i % 10 == 3)
                {
                    a.WriteZeroes(offset, (ulong)length);
                    b.WriteZeroes(offset, (ulong)length);
                }
            }
        }

        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);
    }

    [QemuImgFact]
    public void ReadsAndWritesOverlayWithBackingFile()
    {
        string baseRaw = _temp.File("base.raw");
        WriteRawPattern(baseRaw, 8UL << 20);
        string baseQcow = _temp.File("base.qcow2");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "qcow2", baseRaw, baseQcow);
        string overlay = _temp.File("overlay.qcow2");
        QemuImg.Succeed("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay);
        AssertSameContent(overlay, baseRaw);

        string expected = _temp.File("expected.raw");
        File.Copy(baseRaw, expected);
        using (var disk = DiskImage.Open(overlay))
        using (var model = DiskImage.Open(expected))
        {
            Assert.IsType<Qcow2Image>(disk);
            foreach (var (offset, length) in new[] { (1000UL * 512, 3000), (70_000UL, 100), (5UL << 20, 65536 * 2 + 512) })
            {
                byte[] data = TestData.Pattern(length, (int)offset);
                disk.Write(offset, data);
                model.Write(offset, data);
            }

            disk.WriteZeroes(1UL << 20, 256 << 10);
            model.WriteZeroes(1UL << 20, 256 << 10);
            disk.Discard(3UL << 20, 128 << 10);
            model.WriteZeroes(3UL << 20, 128 << 10);
        }

        QemuImg.Succeed("check", overlay);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", overlay, expected);
    }

    [QemuImgFact]
    public void CreatesOverlayQemuAccepts()
    {
        string baseRaw = _temp.File("base.raw");
        WriteRawPattern(baseRaw, 4UL << 20);
        string overlay = _temp.File("overlay.qcow2");
        Qcow2Image.Create(overlay, 4UL << 20, backingFile: "base.raw", backingFormat: "raw");
        string info = QemuImg.Succeed("info", overlay);
        Assert.Contains("backing file: base.raw", info);
        QemuImg.Succeed("compare", overlay, baseRaw);
        AssertSameContent(overlay, baseRaw);
    }

    [QemuImgFact]
    public void CompressedClustersWrittenByVesselReadByQemu()
    {
        string raw = _temp.File("source.raw");
        WriteRawPattern(raw, 6UL << 20);
        string qcow = _temp.File("packed.qcow2");
        Qcow2Image.Create(qcow, 6UL << 20);
        using (var source = DiskImage.Open(raw, "raw", readOnly: true))
        using (var target = Qcow2Image.Open(qcow, readOnly: false))
        {
            byte[] cluster = new byte[target.ClusterSize];
            for (ulong offset = 0; offset < source.Size; offset += (ulong)cluster.Length)
            {
                source.Read(offset, cluster);
                target.WriteCompressedCluster(offset, cluster);
            }
        }

        QemuImg.Succeed("check", qcow);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", qcow, raw);
        AssertSameContent(qcow, raw);
        Assert.True(new FileInfo(qcow).Length < new FileInfo(raw).Length);
    }

    /// <summary>Compressible text in some places, random bytes in others, holes elsewhere.</summary>
    internal static void WriteRawPattern(string path, ulong size)
    {
        RawImage.Create(path, size);
        using var disk = DiskImage.Open(path, "raw");
        byte[] text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i} of the disk\n")));
        for (ulong offset = 0; offset + 65536 <= size; offset += 3 * 65536)
        {
            disk.Write(offset, text.AsSpan(0, 65536));
            if (offset + 2 * 65536 + 4096 <= size)
            {
                disk.Write(offset + 65536 + 512, TestData.Pattern(4096, (int)offset));
            }
        }
    }

    internal static void AssertSameContent(string image, string rawPath)
    {
        using var disk = DiskImage.Open(image, readOnly: true);
        byte[] expected = File.ReadAllBytes(rawPath);
        Assert.True(disk.Size >= (ulong)expected.Length);
        byte[] actual = new byte[expected.Length];
        disk.Read(0, actual);
        int mismatch = actual.AsSpan().CommonPrefixLength(expected);
        Assert.True(mismatch == expected.Length, $"{image}: first difference at byte {mismatch}");
    }
}
