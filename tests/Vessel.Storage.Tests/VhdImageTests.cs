using Vessel.Storage.Vhd;

namespace Vessel.Storage.Tests;

/// <summary>VHD structures and the backend's discard / write-zeroes semantics, without qemu-img.</summary>
public sealed class VhdImageTests : IDisposable
{
    private const int BatOffset = 1536;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void GeometryRoundsUpLikeQemuImg()
    {
        // qemu-img create -f vpc disk.vhd 1G writes 2081 cylinders, 16 heads, 63 sectors per track.
        Assert.Equal(new VhdGeometry(2081, 16, 63), VhdGeometry.RoundingUp(2_097_152));
        Assert.Equal(VhdGeometry.Maximum, VhdGeometry.RoundingUp(200UL << 21));
        var random = new Random(1);
        for (int i = 0; i < 200; i++)
        {
            ulong sectors = (ulong)random.NextInt64(1, (long)VhdGeometry.Maximum.Sectors);
            Assert.True(VhdGeometry.For(sectors).Sectors <= sectors);
            var up = VhdGeometry.RoundingUp(sectors);
            Assert.True(up.Sectors >= sectors && up.Sectors - sectors < 255UL * 16, $"{sectors} -> {up}");
        }
    }

    [Fact]
    public void FooterAndHeaderSurviveEncoding()
    {
        var footer = new VhdFooter
        {
            DataOffset = 512,
            Timestamp = 12345,
            CurrentSize = 1 << 30,
            OriginalSize = 1 << 30,
            Geometry = new VhdGeometry(2081, 16, 63),
            DiskType = (uint)VhdDiskType.Dynamic,
            UniqueId = Guid.NewGuid(),
        };
        byte[] raw = footer.Encode();
        Assert.Null(VhdFooter.Problem(raw));
        Assert.Equal(footer, VhdFooter.Decode(raw));
        raw[200] ^= 1;
        Assert.Contains("checksum", VhdFooter.Problem(raw));

        var locators = new VhdParentLocator[VhdDynamicHeader.LocatorCount];
        locators[1] = new VhdParentLocator(VhdParentLocator.WindowsRelative, 512, 24, 0x1234);
        var header = new VhdDynamicHeader
        {
            TableOffset = 1536,
            MaxTableEntryCount = 513,
            ParentUniqueId = Guid.NewGuid(),
            ParentTimestamp = 77,
            ParentName = "parent disk ü.vhd",
            Locators = locators,
        };
        var decoded = VhdDynamicHeader.Decode(header.Encode(), "x");
        Assert.Equal(header.ParentName, decoded.ParentName);
        Assert.Equal(header.ParentUniqueId, decoded.ParentUniqueId);
        Assert.Equal(header.Locators, decoded.Locators);
        Assert.Equal((header.TableOffset, header.MaxTableEntryCount, header.BlockSize), (decoded.TableOffset, decoded.MaxTableEntryCount, decoded.BlockSize));
        Assert.Equal(512u, decoded.BitmapSize);
    }

    [Fact]
    public void DiscardUnmapsWholeBlocksOfADynamicDisk()
    {
        string path = _temp.File("disk.vhd");
        ulong size = VhdImage.Create(path, 4 << 20, blockSize: 1 << 20);
        byte[] data = TestData.Pattern((int)size, 1);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, data);
            disk.Discard(512 << 10, (2 << 20) + 100); // covers block 1 only as a whole
            Assert.False(TestData.ReadAll(disk, 1 << 20, 1 << 20).AsSpan().ContainsAnyExcept((byte)0));
            Assert.Equal(data.AsSpan(0, 1 << 20).ToArray(), TestData.ReadAll(disk, 0, 1 << 20));
            Assert.Equal(data.AsSpan(2 << 20, 1 << 20).ToArray(), TestData.ReadAll(disk, 2 << 20, 1 << 20));
        }

        Assert.Equal(0xffff_ffffu, VhdFileEditor.ReadUInt32(path, BatOffset + 4));
        Assert.NotEqual(0xffff_ffffu, VhdFileEditor.ReadUInt32(path, BatOffset + 8));

        // The block comes back, at the end of the file.
        long before = new FileInfo(path).Length;
        using (var disk = DiskImage.Open(path))
        {
            disk.Write((1 << 20) + 512, data.AsSpan(0, 1024));
            Assert.Equal(data.AsSpan(0, 1024).ToArray(), TestData.ReadAll(disk, (1 << 20) + 512, 1024));
            Assert.False(TestData.ReadAll(disk, 1 << 20, 512).AsSpan().ContainsAnyExcept((byte)0));
        }

        Assert.True(new FileInfo(path).Length > before);
        Assert.Equal((uint)((before - 512) / 512), VhdFileEditor.ReadUInt32(path, BatOffset + 4));
    }

    [Fact]
    public void UnflushedAllocationsAreUnreferencedAfterACrash()
    {
        string path = _temp.File("disk.vhd");
        string crashed = _temp.File("crashed.vhd");
        VhdImage.Create(path, 4 << 20, blockSize: 1 << 20);
        byte[] flushed = TestData.Pattern(1 << 20, 1);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, flushed);
            disk.Flush();
            disk.Write(2 << 20, TestData.Pattern(1 << 20, 2));
            CopyBehindTheLock(path, crashed); // the file as a crash would leave it: no flush since the second write
        }

        using (var disk = DiskImage.Open(crashed))
        {
            Assert.Equal(flushed, TestData.ReadAll(disk, 0, 1 << 20));
            Assert.False(TestData.ReadAll(disk, 2 << 20, 1 << 20).AsSpan().ContainsAnyExcept((byte)0));
            disk.Write(1 << 20, flushed); // allocated after the orphaned block, not over it
            Assert.Equal(flushed, TestData.ReadAll(disk, 1 << 20, 1 << 20));
            Assert.Equal(flushed, TestData.ReadAll(disk, 0, 1 << 20));
        }

        Assert.Equal(0xffff_ffffu, VhdFileEditor.ReadUInt32(crashed, BatOffset + 8));
    }

    [Theory]
    [InlineData(VhdDiskType.Dynamic)]
    [InlineData(VhdDiskType.Fixed)]
    public void WriteZeroesReadsBackAsZeroes(VhdDiskType type)
    {
        string path = _temp.File("disk.vhd");
        ulong size = VhdImage.Create(path, 4 << 20, type, blockSize: 1 << 20);
        byte[] expected = TestData.Pattern((int)size, 2);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, expected.AsSpan(0, 3 << 20));
            Array.Clear(expected, 3 << 20, expected.Length - (3 << 20));
            disk.WriteZeroes(1000, (2 << 20) + 5000);
            Array.Clear(expected, 1000, (2 << 20) + 5000);
            disk.WriteZeroes(3 << 20, 1 << 20); // never written: stays unallocated
            Assert.Equal(expected, TestData.ReadAll(disk, 0, (int)size));
        }

        if (type == VhdDiskType.Dynamic)
        {
            Assert.Equal(0xffff_ffffu, VhdFileEditor.ReadUInt32(path, BatOffset + 12));
        }
    }

    [Fact]
    public void FixedDiskIsDetectedByItsTrailingFooter()
    {
        string path = _temp.File("fixed.vhd");
        ulong size = VhdImage.Create(path, 3 << 20, VhdDiskType.Fixed);
        Assert.Equal((long)size + 512, new FileInfo(path).Length);
        byte[] data = TestData.Pattern(10_000, 3);
        using (var disk = Assert.IsType<VhdImage>(DiskImage.Open(path)))
        {
            Assert.Equal(VhdDiskType.Fixed, disk.DiskType);
            Assert.Equal(0u, disk.BlockSize);
            disk.Write(size - 10_000, data);
        }

        Assert.Equal(data, File.ReadAllBytes(path).AsSpan((int)size - 10_000, 10_000).ToArray());
    }

    [Theory]
    [InlineData("vpc")]
    [InlineData("vhd")]
    [InlineData("VPC")]
    public void FormatNamesOpenVhd(string name)
    {
        Assert.Equal(ImageFormat.Vhd, ImageFormatNames.ParseSupported(name));
        string path = _temp.File("disk.vhd");
        VhdImage.Create(path, 1 << 20);
        using var disk = DiskImage.Open(path, name, readOnly: true);
        Assert.IsType<VhdImage>(disk);
    }

    [Fact]
    public void CreateOptionsParseLikeQemuImg()
    {
        Assert.Equal(new VhdCreateOptions(), VhdCreateOptions.Parse(null));
        Assert.Equal(new VhdCreateOptions(VhdDiskType.Fixed, true), VhdCreateOptions.Parse("subformat=fixed,force_size=on"));
        Assert.Equal(new VhdCreateOptions(VhdDiskType.Dynamic, true), VhdCreateOptions.Parse(" force_size "));
        Assert.Throws<DiskImageException>(() => VhdCreateOptions.Parse("force_size=maybe"));
    }

    [Theory]
    [InlineData(512u)]
    [InlineData(3000u)]
    [InlineData(512u << 20)]
    public void CreateRefusesBadBlockSizesAndSizes(uint blockSize)
    {
        Assert.Contains("block size", Assert.Throws<DiskImageException>(
            () => VhdImage.Create(_temp.File("x.vhd"), 1 << 20, blockSize: blockSize)).Message);
        Assert.Contains("2040 GiB", Assert.Throws<DiskImageException>(
            () => VhdImage.Create(_temp.File("x.vhd"), 3UL << 40)).Message);
        Assert.False(File.Exists(_temp.File("x.vhd")));
    }

    /// <summary>cp takes no advisory lock, so it can copy the image while Vessel holds it open exclusively.</summary>
    private static void CopyBehindTheLock(string from, string to)
    {
        using var copy = System.Diagnostics.Process.Start("cp", [from, to]);
        copy.WaitForExit();
        Assert.Equal(0, copy.ExitCode);
    }
}
