using System.Text.Json;
using Vessel.Storage.Vhd;

namespace Vessel.Storage.Tests;

/// <summary>VHD images made by qemu-img read by Vessel, and images written by Vessel checked with qemu-img.</summary>
public sealed class VhdInteropTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgTheory]
    [InlineData("dynamic", 1UL << 20, false)]
    [InlineData("dynamic", 1_000_000UL, false)]
    [InlineData("dynamic", 1UL << 30, false)]
    [InlineData("dynamic", 200UL << 30, false)] // beyond the largest CHS geometry: the footer's current size counts
    [InlineData("dynamic", 1UL << 30, true)] // force_size: creator "qem2", current size
    [InlineData("fixed", 10UL << 20, false)]
    [InlineData("fixed", 3_000_000UL, true)]
    public void QemuImgCreatedImageHasQemuImgsVirtualSize(string subformat, ulong size, bool forceSize)
    {
        string path = _temp.File("disk.vhd");
        QemuImg.Succeed("create", "-f", "vpc", "-o", $"subformat={subformat},force_size={(forceSize ? "on" : "off")}", path, size.ToString());
        ulong expected = QemuVirtualSize(path);
        using (var disk = DiskImage.Open(path, readOnly: true))
        {
            Assert.IsType<VhdImage>(disk);
            Assert.Equal(expected, disk.Size);
        }

        var info = DiskImageInspector.Inspect(path);
        Assert.Equal(ImageFormat.Vhd, info.Format);
        Assert.Equal(expected, info.VirtualSize);
        Assert.Equal(subformat == "fixed" ? null : 2 << 20, info.ClusterSize);
    }

    [QemuImgTheory]
    [InlineData(1UL << 20, false)]
    [InlineData(1_000_000UL, false)]
    [InlineData(1UL << 30, false)]
    [InlineData(200UL << 30, false)]
    [InlineData(3_000_000UL, true)]
    public void VesselCreatedImageHasTheSizeQemuImgGives(ulong size, bool forceSize)
    {
        string reference = _temp.File("qemu.vhd");
        QemuImg.Succeed("create", "-f", "vpc", "-o", $"force_size={(forceSize ? "on" : "off")}", reference, size.ToString());
        ulong qemuSize = QemuVirtualSize(reference);
        foreach (var type in new[] { VhdDiskType.Dynamic, VhdDiskType.Fixed })
        {
            if (type == VhdDiskType.Fixed && size > 1UL << 30)
            {
                continue;
            }

            string path = _temp.File($"vessel-{type}.vhd");
            ulong created = VhdImage.Create(path, size, type, forceSize: forceSize);
            Assert.Equal(qemuSize, created);
            Assert.Equal(created, QemuVirtualSize(path));
            QemuImg.Succeed("compare", "-f", "vpc", "-F", "vpc", path, reference); // both empty
        }
    }

    /// <summary>Which size counts — CHS geometry or the footer's current size — follows QEMU's creator table.</summary>
    [QemuImgTheory]
    [InlineData("vssl", false, 10_321_920UL)] // unknown creator: the geometry, 20 cylinders x 16 heads x 63 sectors
    [InlineData("vpc ", false, 10_321_920UL)]
    [InlineData("win ", false, 20_971_520UL)] // Hyper-V: current size
    [InlineData("d2v ", false, 20_971_520UL)]
    [InlineData("vssl", true, 20_971_520UL)] // maximum geometry: current size whatever the creator
    public void VirtualSizeFollowsQemusCreatorRules(string creator, bool maximumGeometry, ulong expected)
    {
        string path = _temp.File("disk.vhd");
        VhdImage.Create(path, 20 << 20);
        VhdFileEditor.PatchFooter(path, 48, 8, 20UL << 20); // current size 20 MiB
        VhdFileEditor.PatchFooter(path, 56, 4, maximumGeometry ? 0xffff_10ffUL : (20UL << 16) | (16 << 8) | 63);
        VhdFileEditor.PatchFooter(path, 28, 4, BitConverter.ToUInt32(System.Text.Encoding.ASCII.GetBytes(creator).Reverse().ToArray()));
        Assert.Equal(expected, QemuVirtualSize(path));
        using var disk = DiskImage.Open(path, readOnly: true);
        Assert.Equal(expected, disk.Size);
    }

    [QemuImgTheory]
    [InlineData("dynamic")]
    [InlineData("fixed")]
    public void QemuImgConvertedImageReadsBitExactly(string subformat)
    {
        string raw = _temp.File("source.raw");
        byte[] content = RawWithPatternAndHoles(raw, (7 << 20) + 1536);
        string vhd = _temp.File("disk.vhd");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vpc", "-o", $"subformat={subformat}", raw, vhd);
        using var disk = DiskImage.Open(vhd, readOnly: true);
        Assert.Equal(QemuVirtualSize(vhd), disk.Size);
        byte[] read = TestData.ReadAll(disk, 0, (int)disk.Size);
        Assert.True(read.AsSpan(0, content.Length).SequenceEqual(content), "the VHD's data differs from the raw source");
        Assert.False(read.AsSpan(content.Length).ContainsAnyExcept((byte)0));
    }

    [QemuImgTheory]
    [InlineData(VhdDiskType.Dynamic, 2u << 20, 24UL << 20)]
    [InlineData(VhdDiskType.Dynamic, 64u << 10, 24UL << 20)]
    [InlineData(VhdDiskType.Dynamic, 4096u, 1UL << 20)]
    [InlineData(VhdDiskType.Fixed, 0u, 24UL << 20)]
    public void VesselWrittenImageMatchesRawCopy(VhdDiskType type, uint blockSize, ulong requested)
    {
        string vhd = _temp.File("disk.vhd");
        string raw = _temp.File("disk.raw");
        ulong size = VhdImage.Create(vhd, requested, type, blockSize: blockSize == 0 ? 2u << 20 : blockSize);
        RawImage.Create(raw, size);
        using (var a = DiskImage.Open(vhd))
        using (var b = DiskImage.Open(raw))
        {
            var random = new Random((int)blockSize + (int)type);
            ulong step = blockSize == 0 ? 1UL << 20 : blockSize;
            for (ulong boundary = step; boundary < size; boundary += step * 5)
            {
                // Unaligned writes straddling a block boundary: partial sectors on both sides.
                byte[] data = TestData.Pattern(1000, (int)boundary);
                ulong at = boundary - 333;
                a.Write(at, data);
                b.Write(at, data);
            }

            for (int i = 0; i < 200; i++)
            {
                int length = random.Next(1, (int)Math.Min(size / 4, 150_000));
                ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length));
                byte[] data = TestData.Pattern(length, i);
                a.Write(offset, data);
                b.Write(offset, data);
                if (i % 40 == 7)
                {
                    ulong zeroAt = offset / 3;
                    ulong zeroLength = Math.Min(size - zeroAt, (ulong)length * 3);
                    a.WriteZeroes(zeroAt, zeroLength);
                    b.WriteZeroes(zeroAt, zeroLength);
                }

                if (i % 50 == 21)
                {
                    a.Flush();
                }
            }

            a.Write(size - 700, TestData.Pattern(700, 99));
            b.Write(size - 700, TestData.Pattern(700, 99));
            Assert.Equal(TestData.ReadAll(b, 0, (int)size), TestData.ReadAll(a, 0, (int)size));
        }

        QemuImg.Succeed("compare", "-f", "raw", "-F", "vpc", raw, vhd);
        string back = _temp.File("back.raw");
        QemuImg.Succeed("convert", "-f", "vpc", "-O", "raw", vhd, back);
        Assert.Equal(File.ReadAllBytes(raw), File.ReadAllBytes(back));
        using var reopened = DiskImage.Open(vhd, readOnly: true);
        Assert.Equal(File.ReadAllBytes(raw), TestData.ReadAll(reopened, 0, (int)size));
    }

    [QemuImgFact]
    public void QemuImgWritesIntoVesselCreatedImage()
    {
        string vhd = _temp.File("disk.vhd");
        ulong size = VhdImage.Create(vhd, 9 << 20);
        string raw = _temp.File("source.raw");
        byte[] content = RawWithPatternAndHoles(raw, (int)size);
        QemuImg.Succeed("convert", "-n", "-f", "raw", "-O", "vpc", raw, vhd);
        using (var disk = DiskImage.Open(vhd))
        {
            Assert.Equal(content, TestData.ReadAll(disk, 0, (int)size));

            // Vessel writes into blocks qemu-img allocated (all bitmap bits set) and into new ones.
            byte[] more = TestData.Pattern(5000, 7);
            disk.Write(100, more);
            disk.Write(size - 5000, more);
            more.CopyTo(content, 100);
            more.CopyTo(content, (int)size - 5000);
        }

        File.WriteAllBytes(raw, content);
        QemuImg.Succeed("compare", "-f", "raw", "-F", "vpc", raw, vhd);
    }

    [QemuImgTheory]
    [InlineData(null, 2 << 20)]
    [InlineData("subformat=fixed", null)]
    [InlineData("subformat=dynamic,force_size=on", 2 << 20)]
    public void ConverterWritesVpcThatQemuImgReads(string? options, int? clusterSize)
    {
        string raw = _temp.File("source.raw");
        RawWithPatternAndHoles(raw, 5 << 20);
        string vhd = _temp.File("disk.vhd");
        ImageConverter.Convert(raw, null, vhd, ImageFormat.Vhd, options: options);
        QemuImg.Succeed("compare", "-f", "raw", "-F", "vpc", raw, vhd);
        string info = QemuImg.Succeed("info", "-f", "vpc", "--output=json", vhd);
        Assert.Contains("\"format\": \"vpc\"", info);
        Assert.Equal(clusterSize, DiskImageInspector.Inspect(vhd).ClusterSize);
        if (options?.Contains("force_size", StringComparison.Ordinal) == true)
        {
            Assert.Equal(5UL << 20, QemuVirtualSize(vhd));
        }

        string back = _temp.File("back.raw");
        ImageConverter.Convert(vhd, null, back, ImageFormat.Raw);
        Assert.Equal(File.ReadAllBytes(raw), File.ReadAllBytes(back).AsSpan(0, 5 << 20).ToArray());
    }

    [Fact]
    public void UnknownConverterOptionsAreRefused()
    {
        string raw = _temp.File("source.raw");
        RawImage.Create(raw, 1 << 20);
        Assert.Contains("subformat=sparse", Assert.Throws<DiskImageException>(
            () => ImageConverter.Convert(raw, null, _temp.File("x.vhd"), ImageFormat.Vhd, options: "subformat=sparse")).Message);
        Assert.Contains("unknown vpc option 'cluster_size'", Assert.Throws<DiskImageException>(
            () => ImageConverter.Convert(raw, null, _temp.File("x.vhd"), ImageFormat.Vhd, options: "cluster_size=4096")).Message);
        Assert.Contains("only understood for vpc", Assert.Throws<DiskImageException>(
            () => ImageConverter.Convert(raw, null, _temp.File("x.qcow2"), ImageFormat.Qcow2, options: "subformat=fixed")).Message);
    }

    internal static ulong QemuVirtualSize(string path)
    {
        string json = QemuImg.Succeed("info", "-f", "vpc", "--output=json", path);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("virtual-size").GetUInt64();
    }

    /// <summary>A raw file of <paramref name="length"/> bytes: random data in places (some crossing 2 MiB blocks), zeroes elsewhere.</summary>
    internal static byte[] RawWithPatternAndHoles(string path, int length)
    {
        byte[] content = new byte[length];
        var random = new Random(length);
        for (int i = 0; i < 12; i++)
        {
            int size = random.Next(1, 300_000);
            int at = random.Next(0, length - size);
            TestData.Pattern(size, i).CopyTo(content, at);
        }

        TestData.Pattern(4096, 100).CopyTo(content, (2 << 20) - 2048);
        File.WriteAllBytes(path, content);
        return content;
    }
}
