using Vessel.Storage.Vdi;

namespace Vessel.Storage.Tests;

/// <summary>VDI images written by qemu-img read by Vessel, and images written by Vessel checked by qemu-img.</summary>
public sealed class VdiInteropTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgTheory]
    [InlineData("static=off")]
    [InlineData("static=on")]
    public void ReadsImagesWrittenByQemu(string option)
    {
        string raw = _temp.File("source.raw");
        ulong size = (20UL << 20) + 12288;
        VmdkInteropTests.WritePatternWithHoles(raw, size, seed: option.Length);
        string vdi = _temp.File("disk.vdi");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vdi", "-o", option, raw, vdi);

        Assert.Equal(ImageFormat.Vdi, ImageFormatDetector.Detect(vdi));
        using (var image = VdiImage.Open(vdi, readOnly: true))
        {
            Assert.Equal(option == "static=on", image.IsFixed);
        }

        VmdkInteropTests.AssertSameContent(vdi, raw);
        var info = DiskImageInspector.Inspect(vdi);
        Assert.Equal(size, info.VirtualSize);
        Assert.Equal(1 << 20, info.ClusterSize);
    }

    [QemuImgTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrittenImageMatchesRawCopy(bool fixedSize)
    {
        string vdi = _temp.File("disk.vdi");
        string raw = _temp.File("disk.raw");
        ulong size = (40UL << 20) + 3584;
        VdiImage.Create(vdi, size, fixedSize);
        RawImage.Create(raw, size);
        using (var a = DiskImage.Open(vdi))
        using (var b = DiskImage.Open(raw))
        {
            Assert.Equal(size, a.Size);
            var random = new Random(fixedSize ? 1 : 2);
            for (int i = 0; i < 250; i++)
            {
                int length = Math.Max(512, random.Next(1, 300_000) & ~511);
                ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length)) & ~511UL;
                byte[] data = TestData.Pattern(length, i);
                a.Write(offset, data);
                b.Write(offset, data);
                if (i % 40 == 7)
                {
                    ulong zeroLength = Math.Min((ulong)length + 1_500_000, size - offset); // spans whole blocks
                    a.WriteZeroes(offset, zeroLength);
                    b.WriteZeroes(offset, zeroLength);
                }

                if (i % 50 == 21)
                {
                    a.Flush();
                }
            }

            byte[] straddle = TestData.Pattern(8192, 77); // across a block boundary
            a.Write((3UL << 20) - 4096, straddle);
            b.Write((3UL << 20) - 4096, straddle);
            a.Write(size - 512, TestData.Pattern(512, 99));
            b.Write(size - 512, TestData.Pattern(512, 99));
        }

        QemuImg.Succeed("check", vdi);
        QemuImg.Succeed("compare", "-f", "vdi", "-F", "raw", vdi, raw);
        VmdkInteropTests.AssertSameContent(vdi, raw);
        Assert.Contains($"\"virtual-size\": {size}", QemuImg.Succeed("info", "--output=json", vdi));
    }

    [QemuImgFact]
    public void ConvertedImageIsAcceptedByQemu()
    {
        string raw = _temp.File("source.raw");
        ulong size = 30UL << 20;
        VmdkInteropTests.WritePatternWithHoles(raw, size, seed: 9);
        string vdi = _temp.File("out.vdi");
        ImageConverter.Convert(raw, "raw", vdi, ImageFormat.Vdi);
        QemuImg.Succeed("check", vdi);
        QemuImg.Succeed("compare", "-f", "vdi", "-F", "raw", vdi, raw);
        VmdkInteropTests.AssertSameContent(vdi, raw);

        string vmdk = _temp.File("out.vmdk");
        ImageConverter.Convert(vdi, null, vmdk, ImageFormat.Vmdk);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", vmdk, raw);
    }

    [QemuImgFact]
    public void WritesIntoImageMadeByQemu()
    {
        string raw = _temp.File("base.raw");
        ulong size = 16UL << 20;
        VmdkInteropTests.WritePatternWithHoles(raw, size, seed: 4);
        string vdi = _temp.File("qemu.vdi");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vdi", raw, vdi);
        using (var a = DiskImage.Open(vdi))
        using (var b = DiskImage.Open(raw, "raw"))
        {
            var random = new Random(3);
            for (int i = 0; i < 80; i++)
            {
                int length = Math.Max(512, random.Next(1, 150_000) & ~511);
                ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length)) & ~511UL;
                a.Write(offset, TestData.Pattern(length, 300 + i));
                b.Write(offset, TestData.Pattern(length, 300 + i));
            }
        }

        QemuImg.Succeed("check", vdi);
        QemuImg.Succeed("compare", "-f", "vdi", "-F", "raw", vdi, raw);
    }

    [Fact]
    public void DiscardedBlocksReadAsZeroesAndStayAllocated()
    {
        string vdi = _temp.File("discard.vdi");
        VdiImage.Create(vdi, 8 << 20);
        using (var disk = DiskImage.Open(vdi))
        {
            disk.Write(1 << 20, TestData.Pattern(2 << 20, 1));
            disk.Discard(1 << 20, 1 << 20);
            disk.Discard((2 << 20) + 4096, 8192); // less than a block: nothing happens
            Assert.Equal(TestData.Pattern(2 << 20, 1).AsSpan(1 << 20).ToArray(), TestData.ReadAll(disk, 2 << 20, 1 << 20));
        }

        using (var disk = VdiImage.Open(vdi, readOnly: false))
        {
            // Reopening writable checks the header's allocated count against the map: both blocks are still mapped.
            Assert.Equal(TestData.Pattern(2 << 20, 1).AsSpan(1 << 20, 4096).ToArray(), TestData.ReadAll(disk, 2 << 20, 4096));
        }

        if (QemuImg.Path is not null)
        {
            QemuImg.Succeed("check", vdi);
        }
    }
}
