using Vessel.Storage.Vmdk;

namespace Vessel.Storage.Tests;

/// <summary>VMDK images written by qemu-img read by Vessel, and images written by Vessel checked by qemu-img.</summary>
public sealed class VmdkInteropTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgTheory]
    [InlineData("monolithicSparse")]
    [InlineData("streamOptimized")]
    [InlineData("monolithicFlat")]
    [InlineData("twoGbMaxExtentSparse")]
    [InlineData("twoGbMaxExtentFlat")]
    public void ReadsImagesWrittenByQemu(string subformat)
    {
        string raw = _temp.File("source.raw");
        WritePatternWithHoles(raw, (20UL << 20) + 12288, seed: subformat.Length);
        string vmdk = _temp.File("disk.vmdk");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vmdk", "-o", $"subformat={subformat}", raw, vmdk);

        Assert.Equal(ImageFormat.Vmdk, ImageFormatDetector.Detect(vmdk));
        using (var image = VmdkImage.Open(vmdk, readOnly: true))
        {
            Assert.Equal(subformat, image.CreateType);
        }

        AssertSameContent(vmdk, raw);
        Assert.Equal((20UL << 20) + 12288, DiskImageInspector.Inspect(vmdk).VirtualSize);
    }

    [QemuImgTheory]
    [InlineData("twoGbMaxExtentSparse")]
    [InlineData("twoGbMaxExtentFlat")]
    public void ReadsAcrossExtentBoundaries(string subformat)
    {
        // 2 GiB + 1 MiB: qemu-img splits it into two extents; data straddles the boundary.
        ulong size = (2UL << 30) + (1UL << 20);
        string raw = _temp.File("big.raw");
        RawImage.Create(raw, size);
        byte[] pattern = TestData.Pattern(3 << 20, 11);
        ulong at = (2UL << 30) - (1UL << 20) - 512;
        using (var disk = DiskImage.Open(raw, "raw"))
        {
            disk.Write(at, pattern.AsSpan(0, (int)(size - at)));
        }

        string vmdk = _temp.File("big.vmdk");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vmdk", "-o", $"subformat={subformat}", raw, vmdk);
        using var image = DiskImage.Open(vmdk, readOnly: true);
        Assert.Equal(size, image.Size);
        Assert.Equal(pattern.AsSpan(0, (int)(size - at)).ToArray(), TestData.ReadAll(image, at, (int)(size - at)));
        Assert.Equal(new byte[4096], TestData.ReadAll(image, at - 4096, 4096));
    }

    [QemuImgTheory]
    [InlineData(VmdkSubformat.MonolithicSparse)]
    [InlineData(VmdkSubformat.MonolithicFlat)]
    public void WrittenImageMatchesRawCopy(VmdkSubformat subformat)
    {
        string vmdk = _temp.File("disk.vmdk");
        string raw = _temp.File("disk.raw");
        ulong size = (48UL << 20) + 3584; // not a multiple of the grain size
        VmdkImage.Create(vmdk, size, subformat);
        RawImage.Create(raw, size);
        using (var a = DiskImage.Open(vmdk))
        using (var b = DiskImage.Open(raw))
        {
            Assert.Equal(size, a.Size);
            var random = new Random((int)subformat + 5);
            for (int i = 0; i < 300; i++)
            {
                int length = Math.Max(512, random.Next(1, 200_000) & ~511);
                ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length)) & ~511UL;
                byte[] data = TestData.Pattern(length, i);
                a.Write(offset, data);
                b.Write(offset, data);
                if (i % 40 == 7)
                {
                    a.WriteZeroes(offset, (ulong)length);
                    b.WriteZeroes(offset, (ulong)length);
                }

                if (i % 40 == 13)
                {
                    a.Discard(offset & ~0xffffUL, 1 << 16);
                    b.WriteZeroes(offset & ~0xffffUL, 1 << 16);
                }

                if (i % 50 == 21)
                {
                    a.Flush();
                }
            }

            // Across a grain boundary, and the short last grain.
            byte[] straddle = TestData.Pattern(8192, 77);
            a.Write((5UL << 16) - 4096, straddle);
            b.Write((5UL << 16) - 4096, straddle);
            a.Write(size - 512, TestData.Pattern(512, 99));
            b.Write(size - 512, TestData.Pattern(512, 99));
        }

        QemuImg.Succeed("check", vmdk);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", vmdk, raw);
        AssertSameContent(vmdk, raw);
        string info = QemuImg.Succeed("info", "--output=json", vmdk);
        Assert.Contains($"\"virtual-size\": {size}", info);
    }

    [QemuImgTheory]
    [InlineData(VmdkSubformat.MonolithicSparse, "monolithicSparse")]
    [InlineData(VmdkSubformat.StreamOptimized, "streamOptimized")]
    [InlineData(VmdkSubformat.MonolithicFlat, "monolithicFlat")]
    public void ConvertedImageIsAcceptedByQemu(VmdkSubformat subformat, string createType)
    {
        string raw = _temp.File("source.raw");
        ulong size = (40UL << 20) + 512;
        WritePatternWithHoles(raw, size, seed: 3);
        string vmdk = _temp.File("out.vmdk");
        ulong lastDone = 0;
        ImageConverter.Convert(raw, "raw", vmdk, ImageFormat.Vmdk, progress: (done, _) => lastDone = done, vmdkSubformat: subformat);
        Assert.Equal(size, lastDone);
        Assert.Empty(Directory.GetFiles(_temp.Path, ".*.tmp"));

        QemuImg.Succeed("check", vmdk);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", vmdk, raw);
        string info = QemuImg.Succeed("info", "--output=json", vmdk);
        Assert.Contains($"\"virtual-size\": {size}", info);
        Assert.Contains($"\"create-type\": \"{createType}\"", info);
        AssertSameContent(vmdk, raw);

        // And back: what Vessel wrote converts to raw through qemu-img bit for bit.
        string back = _temp.File("back.raw");
        QemuImg.Succeed("convert", "-f", "vmdk", "-O", "raw", vmdk, back);
        Assert.Equal(File.ReadAllBytes(raw), File.ReadAllBytes(back));
    }

    [QemuImgFact]
    public void CreatedEmptyImagesAreCleanForQemu()
    {
        foreach (var subformat in Enum.GetValues<VmdkSubformat>())
        {
            string vmdk = _temp.File($"empty-{subformat}.vmdk");
            VmdkImage.Create(vmdk, 10UL << 30, subformat);
            QemuImg.Succeed("check", vmdk);
            string info = QemuImg.Succeed("info", "--output=json", vmdk);
            Assert.Contains("\"virtual-size\": 10737418240", info);
            using var image = DiskImage.Open(vmdk, readOnly: true);
            Assert.Equal(10UL << 30, image.Size);
            Assert.Equal(new byte[65536], TestData.ReadAll(image, 5UL << 30, 65536));
        }
    }

    [QemuImgTheory]
    [InlineData("zeroed_grain=off")]
    [InlineData("zeroed_grain=on")]
    public void WritesIntoImageMadeByQemu(string option)
    {
        string raw = _temp.File("base.raw");
        ulong size = 16UL << 20;
        WritePatternWithHoles(raw, size, seed: option.Length);
        string vmdk = _temp.File("qemu.vmdk");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vmdk", "-o", option, raw, vmdk);
        using (var a = DiskImage.Open(vmdk))
        using (var b = DiskImage.Open(raw, "raw"))
        {
            var random = new Random(7);
            for (int i = 0; i < 100; i++)
            {
                int length = Math.Max(512, random.Next(1, 150_000) & ~511);
                ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length)) & ~511UL;
                byte[] data = TestData.Pattern(length, 1000 + i);
                a.Write(offset, data);
                b.Write(offset, data);
                if (i % 10 == 3)
                {
                    a.WriteZeroes(offset & ~0xffffUL, 3 << 16);
                    b.WriteZeroes(offset & ~0xffffUL, 3 << 16);
                }
            }
        }

        QemuImg.Succeed("check", vmdk);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", vmdk, raw);
        AssertSameContent(vmdk, raw);
    }

    [QemuImgFact]
    public void ReadsAndWritesDeltaLinkMadeByQemu()
    {
        string raw = _temp.File("base.raw");
        ulong size = 12UL << 20;
        WritePatternWithHoles(raw, size, seed: 21);
        string baseImage = _temp.File("base.vmdk");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vmdk", raw, baseImage);
        string child = _temp.File("child.vmdk");
        QemuImg.Succeed("create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", child);
        AssertSameContent(child, raw);

        string expected = _temp.File("expected.raw");
        File.Copy(raw, expected);
        using (var a = DiskImage.Open(child))
        using (var b = DiskImage.Open(expected, "raw"))
        {
            Assert.IsType<VmdkImage>(((VmdkImage)a).Parent);
            var random = new Random(5);
            for (int i = 0; i < 60; i++)
            {
                int length = Math.Max(512, random.Next(1, 100_000) & ~511);
                ulong offset = (ulong)random.NextInt64(0, (long)(size - (ulong)length)) & ~511UL;
                byte[] data = TestData.Pattern(length, 500 + i);
                a.Write(offset, data); // partial grains copy the rest from the parent
                b.Write(offset, data);
                if (i % 10 == 4)
                {
                    a.WriteZeroes(offset, 70_000);
                    b.WriteZeroes(offset, 70_000);
                }
            }
        }

        QemuImg.Succeed("check", child);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", child, expected);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", baseImage, raw); // the parent is untouched
    }

    [QemuImgFact]
    public void DeltaLinkMadeByVesselIsAcceptedByQemu()
    {
        string raw = _temp.File("base.raw");
        ulong size = 6UL << 20;
        WritePatternWithHoles(raw, size, seed: 8);
        string baseImage = _temp.File("base.vmdk");
        ImageConverter.Convert(raw, "raw", baseImage, ImageFormat.Vmdk);
        string child = _temp.File("child.vmdk");
        VmdkImage.Create(child, size, VmdkSubformat.MonolithicSparse, backingFile: "base.vmdk");
        string info = QemuImg.Succeed("info", "--output=json", child);
        Assert.Contains("\"backing-filename\": \"base.vmdk\"", info);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", child, raw);

        using (var disk = DiskImage.Open(child))
        using (var reference = DiskImage.Open(raw, "raw"))
        {
            disk.Write(100_000 & ~511, TestData.Pattern(5000 & ~511, 1));
            reference.Write(100_000 & ~511, TestData.Pattern(5000 & ~511, 1));
        }

        QemuImg.Succeed("check", child);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", child, raw);
    }

    [Fact]
    public void WritingChangesTheCidSoChildrenNoticeAChangedParent()
    {
        string baseImage = _temp.File("base.vmdk");
        VmdkImage.Create(baseImage, 1 << 20);
        string child = _temp.File("child.vmdk");
        VmdkImage.Create(child, 1 << 20, VmdkSubformat.MonolithicSparse, backingFile: "base.vmdk");
        using (var disk = DiskImage.Open(child, readOnly: true))
        {
            Assert.Equal(1UL << 20, disk.Size);
        }

        uint before;
        using (var disk = VmdkImage.Open(baseImage, readOnly: false))
        {
            before = disk.Cid;
            disk.Write(0, new byte[512]);
        }

        using (var disk = VmdkImage.Open(baseImage, readOnly: true))
        {
            Assert.NotEqual(before, disk.Cid);
        }

        var error = Assert.Throws<DiskImageException>(() => DiskImage.Open(child, readOnly: true));
        Assert.Contains("the parent was changed", error.Message);
    }

    [QemuImgFact]
    public void Qcow2OverlayOnVmdkReadsThroughTheChain()
    {
        string raw = _temp.File("base.raw");
        WritePatternWithHoles(raw, 4UL << 20, seed: 30);
        string baseImage = _temp.File("base.vmdk");
        ImageConverter.Convert(raw, "raw", baseImage, ImageFormat.Vmdk, vmdkSubformat: VmdkSubformat.StreamOptimized);
        string overlay = _temp.File("overlay.qcow2");
        Qcow2.Qcow2Image.Create(overlay, 4UL << 20, backingFile: "base.vmdk", backingFormat: "vmdk");
        AssertSameContent(overlay, raw);
        using (var disk = DiskImage.Open(overlay))
        using (var reference = DiskImage.Open(raw, "raw"))
        {
            disk.Write(12345 & ~511, TestData.Pattern(70_000 & ~511, 3));
            reference.Write(12345 & ~511, TestData.Pattern(70_000 & ~511, 3));
        }

        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", overlay, raw);
    }

    [QemuImgFact]
    public void GrainTableCacheEvictionKeepsEveryWrite()
    {
        string vmdk = _temp.File("evict.vmdk");
        string raw = _temp.File("evict.raw");
        ulong size = 1UL << 30; // 32 grain tables
        VmdkImage.Create(vmdk, size);
        RawImage.Create(raw, size);
        using (var a = VmdkImage.Open(vmdk, readOnly: false))
        using (var b = DiskImage.Open(raw))
        {
            foreach (var extent in a.SparseExtents)
            {
                extent.MaxCachedTables = 2;
            }

            var random = new Random(17);
            for (int i = 0; i < 200; i++)
            {
                ulong offset = (ulong)random.NextInt64(0, (long)(size - 8192)) & ~511UL;
                byte[] data = TestData.Pattern(8192, i);
                a.Write(offset, data);
                b.Write(offset, data);
                Assert.Equal(data, TestData.ReadAll(a, offset, 8192));
            }
        }

        QemuImg.Succeed("check", vmdk);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", vmdk, raw);
    }

    [QemuImgFact]
    public void WritesAllocateMissingGrainTables()
    {
        // Grain directories may leave tables out (entry 0); a write there appends a table and its redundant copy.
        string vmdk = _temp.File("sparse-gd.vmdk");
        string raw = _temp.File("sparse-gd.raw");
        ulong size = 100UL << 20; // 4 grain tables
        VmdkImage.Create(vmdk, size);
        RawImage.Create(raw, size);
        byte[] file = File.ReadAllBytes(vmdk);
        foreach (int headerField in new[] { 48, 56 }) // redundant and primary directory
        {
            int directory = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(headerField)) * 512;
            file.AsSpan(directory + 4, 8).Clear(); // tables 1 and 2 are gone
        }

        File.WriteAllBytes(vmdk, file);
        using (var a = DiskImage.Open(vmdk))
        using (var b = DiskImage.Open(raw))
        {
            Assert.Equal(new byte[4096], TestData.ReadAll(a, 40UL << 20, 4096));
            foreach (ulong offset in new[] { (33UL << 20) + 512, (64UL << 20) - 2048, 70UL << 20, 5UL << 20 })
            {
                a.Write(offset, TestData.Pattern(4096, (int)(offset >> 9)));
                b.Write(offset, TestData.Pattern(4096, (int)(offset >> 9)));
            }
        }

        QemuImg.Succeed("check", vmdk);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", vmdk, raw);
        AssertSameContent(vmdk, raw);
    }

    [QemuImgFact]
    public void ZeroedGrainsWrittenByQemuReadAsZeroes()
    {
        string raw = _temp.File("zg.raw");
        ulong size = 4UL << 20;
        WritePatternWithHoles(raw, size, seed: 44);
        string vmdk = _temp.File("zg.vmdk");
        QemuImg.Succeed("convert", "-f", "raw", "-O", "vmdk", "-o", "zeroed_grain=on", raw, vmdk);
        string qemuIo = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(QemuImg.Path!)!, "qemu-io");
        using (var process = System.Diagnostics.Process.Start(qemuIo, ["-f", "vmdk", "-c", "write -z 0 196608", vmdk]))
        {
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
        }

        // The first grain table entries are now "zeroed grain" (1), not unallocated (0).
        byte[] file = File.ReadAllBytes(vmdk);
        int directory = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(56)) * 512;
        int table = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(directory)) * 512;
        Assert.Equal(1u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(table)));

        using (var reference = DiskImage.Open(raw, "raw"))
        {
            reference.WriteZeroes(0, 196608);
        }

        AssertSameContent(vmdk, raw);
        using (var disk = DiskImage.Open(vmdk))
        using (var reference = DiskImage.Open(raw, "raw"))
        {
            disk.Write(70_000 & ~511, TestData.Pattern(1024, 1)); // a write into a zeroed grain allocates it
            reference.Write(70_000 & ~511, TestData.Pattern(1024, 1));
        }

        QemuImg.Succeed("check", vmdk);
        QemuImg.Succeed("compare", "-f", "vmdk", "-F", "raw", vmdk, raw);
    }

    /// <summary>Random data and text with all-zero holes, grain-sized and smaller, and a short tail.</summary>
    internal static void WritePatternWithHoles(string path, ulong size, int seed)
    {
        RawImage.Create(path, size);
        using var disk = DiskImage.Open(path, "raw");
        var random = new Random(seed);
        byte[] text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 9000).Select(i => $"sector text {i}\n")));
        for (ulong offset = 0; offset < size;)
        {
            int length = (int)Math.Min((ulong)random.Next(512, 200_000), size - offset);
            switch (random.Next(4))
            {
                case 0:
                    break; // hole
                case 1:
                    disk.Write(offset, text.AsSpan(0, Math.Min(length, text.Length)));
                    break;
                default:
                    disk.Write(offset, TestData.Pattern(length, random.Next()));
                    break;
            }

            offset += (ulong)length + (ulong)random.Next(0, 3) * 65536;
        }

        disk.Write(size - 100, TestData.Pattern(100, seed)); // data in the last, partial grain
    }

    internal static void AssertSameContent(string image, string rawPath)
    {
        using var disk = DiskImage.Open(image, readOnly: true);
        using var raw = File.OpenRead(rawPath);
        Assert.Equal((ulong)raw.Length, disk.Size);
        byte[] expected = new byte[1 << 20];
        byte[] actual = new byte[1 << 20];
        for (ulong offset = 0; offset < disk.Size; offset += (ulong)expected.Length)
        {
            int n = (int)Math.Min((ulong)expected.Length, disk.Size - offset);
            raw.ReadExactly(expected, 0, n);
            disk.Read(offset, actual.AsSpan(0, n));
            int same = actual.AsSpan(0, n).CommonPrefixLength(expected.AsSpan(0, n));
            Assert.True(same == n, $"{image}: first difference at byte {offset + (ulong)same}");
        }
    }
}
