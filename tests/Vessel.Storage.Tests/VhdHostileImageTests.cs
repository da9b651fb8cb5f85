using Vessel.Storage.Vhd;

namespace Vessel.Storage.Tests;

/// <summary>Malformed or malicious VHD files are refused with a message naming the problem: no crash, hang or huge allocation.</summary>
public sealed class VhdHostileImageTests : IDisposable
{
    private const int BatOffset = 1536; // where Create puts the BAT

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void FileTooSmallForAFooterIsRefused()
    {
        string path = _temp.File("tiny.vhd");
        File.WriteAllBytes(path, "conectix"u8.ToArray());
        Assert.Contains("too small for a VHD footer", Refused(path));
    }

    [Fact]
    public void MissingCookieIsRefused()
    {
        string path = Fixed();
        ImageFileEditor.PatchBigEndian(path, new FileInfo(path).Length - 512, 8, 0);
        Assert.Contains("no 'conectix' footer cookie", Refused(path));
    }

    [Theory]
    [InlineData(VhdDiskType.Fixed)]
    [InlineData(VhdDiskType.Dynamic)]
    public void BadFooterChecksumIsRefused(VhdDiskType type)
    {
        string path = _temp.File("disk.vhd");
        VhdImage.Create(path, 1 << 20, type);
        VhdFileEditor.PatchFooter(path, 100, 1, 0x5a, fixChecksum: false); // both copies of a dynamic disk
        Assert.Contains("footer checksum", Refused(path));
    }

    [Fact]
    public void DamagedTrailingFooterIsRecoveredFromTheCopy()
    {
        string path = _temp.File("disk.vhd");
        ulong size = VhdImage.Create(path, 3 << 20, blockSize: 1 << 20);
        byte[] data = TestData.Pattern((int)size, 3);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, data);
        }

        long length = new FileInfo(path).Length;
        ImageFileEditor.PatchBigEndian(path, length - 512 + 100, 1, 0x5a); // trailing footer only
        using (var disk = DiskImage.Open(path))
        {
            Assert.Equal(data, TestData.ReadAll(disk, 0, (int)size));
        }

        // Opening read-write put a good footer back at the end.
        byte[] tail = File.ReadAllBytes(path).AsSpan((int)new FileInfo(path).Length - 512).ToArray();
        Assert.Null(VhdFooter.Problem(tail));
    }

    [Theory]
    [InlineData(60, 4, 5UL, "unsupported VHD disk type 5")]
    [InlineData(60, 4, 0UL, "unsupported VHD disk type 0")]
    [InlineData(12, 4, 0x0002_0000UL, "unsupported VHD format version 0x00020000")]
    [InlineData(16, 8, 1UL << 40, "dynamic disk header at 0x10000000000")]
    public void HostileFooterFieldIsRefused(int field, int width, ulong value, string expected)
    {
        string path = Dynamic();
        VhdFileEditor.PatchFooter(path, field, width, value);
        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void SizeBeyondTheVhdMaximumIsRefused()
    {
        string path = Dynamic();
        VhdFileEditor.PatchFooter(path, 28, 4, 0x71656d32); // "qem2": sized by the current size field
        VhdFileEditor.PatchFooter(path, 48, 8, 3UL << 40);
        Assert.Contains("exceeds the VHD maximum of 2040 GiB", Refused(path));
    }

    [Fact]
    public void FixedDiskLargerThanItsFileIsRefused()
    {
        string path = Fixed();
        VhdFileEditor.PatchFooter(path, 28, 4, 0x71656d32);
        VhdFileEditor.PatchFooter(path, 48, 8, 1UL << 30);
        Assert.Contains("holds only", Refused(path));
    }

    [Theory]
    [InlineData(0, 8, 0x6e6f737061727365UL, "no 'cxsparse'")]
    [InlineData(24, 4, 0x0005_0000UL, "dynamic disk header version 0x00050000")]
    [InlineData(32, 4, 3UL << 20, "block size 3145728 is not a power of two")]
    [InlineData(32, 4, 1UL << 30, "block size 1073741824")]
    [InlineData(32, 4, 0UL, "block size 0")]
    [InlineData(32, 4, 256UL, "block size 256")]
    [InlineData(28, 4, 0xffff_ffffUL, "the BAT has 4294967295 entries, more than")]
    [InlineData(28, 4, 0UL, "too few for the virtual size")]
    [InlineData(28, 4, 16UL << 20, "the BAT at 0x600 (16777216 entries) lies past the end of the file")]
    [InlineData(16, 8, 1UL << 40, "the BAT at 0x10000000000")]
    public void HostileDynamicHeaderFieldIsRefused(int field, int width, ulong value, string expected)
    {
        string path = Dynamic();
        VhdFileEditor.PatchHeader(path, field, width, value);
        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void BadDynamicHeaderChecksumIsRefused()
    {
        string path = Dynamic();
        VhdFileEditor.PatchHeader(path, 900, 1, 0x5a, fixChecksum: false);
        Assert.Contains("dynamic disk header checksum", Refused(path));
    }

    [Theory]
    [InlineData(0x0010_0000u, "lies past the end of the data")]
    [InlineData(1u, "overlaps the dynamic disk header")]
    [InlineData(0u, "overlaps the footer copy")]
    [InlineData(3u, "overlaps the BAT")]
    public void HostileBatEntryIsRefused(uint sector, string expected)
    {
        string path = Dynamic();
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(3 << 20, TestData.Pattern(4096, 1)); // the file now reaches past 1 MiB
        }

        ImageFileEditor.PatchBigEndian(path, BatOffset, 4, sector);
        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void BlocksSharingSpaceAreRefused()
    {
        string path = Dynamic();
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, TestData.Pattern(4096, 1));
            disk.Write(1 << 20, TestData.Pattern(4096, 2));
        }

        uint first = VhdFileEditor.ReadUInt32(path, BatOffset);
        ImageFileEditor.PatchBigEndian(path, BatOffset + 4, 4, first + 8);
        Assert.Contains("point to overlapping blocks", Refused(path));
    }

    [Fact]
    public void TruncatedDynamicImageIsRefused()
    {
        string path = Dynamic();
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, TestData.Pattern(1 << 20, 1));
            disk.Write(2 << 20, TestData.Pattern(1 << 20, 2));
        }

        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.SetLength(stream.Length - (300 << 10));
        }

        Assert.Contains("truncated", Refused(path));
    }

    [Fact]
    public void ParentLoopIsRefused()
    {
        string a = _temp.File("a.vhd");
        string b = _temp.File("b.vhd");
        VhdImage.Create(a, 1 << 20);
        VhdImage.Create(b, 0, parent: "a.vhd");
        string replacement = _temp.File("a-new.vhd");
        VhdImage.Create(replacement, 0, parent: "b.vhd");
        File.Move(replacement, a, overwrite: true); // a's parent is now b, whose parent is a
        Assert.Contains("loop", Refused(b, parentProblem: true));

        string self = _temp.File("self.vhd");
        VhdImage.Create(self, 1 << 20);
        string selfChild = _temp.File("self-child.vhd");
        VhdImage.Create(selfChild, 0, parent: "self.vhd");
        File.Move(selfChild, self, overwrite: true); // its parent locator names itself
        Assert.Contains("loop", Refused(self, parentProblem: true));
    }

    [Fact]
    public void OverlongParentChainIsRefused()
    {
        VhdImage.Create(_temp.File("0.vhd"), 1 << 20, blockSize: 4096);
        for (int i = 1; i <= DiskImage.MaxBackingChainDepth + 1; i++)
        {
            VhdImage.Create(_temp.File($"{i}.vhd"), 0, parent: $"{i - 1}.vhd", blockSize: 4096);
        }

        using (DiskImage.Open(_temp.File($"{DiskImage.MaxBackingChainDepth}.vhd"), readOnly: true))
        {
        }

        VhdFileEditor.PatchFooter(_temp.File("0.vhd"), 0, 1, 0, fixChecksum: false); // not reached: depth is refused first
        Assert.Contains("deeper than", Refused(_temp.File($"{DiskImage.MaxBackingChainDepth + 1}.vhd"), parentProblem: true));
    }

    [Theory]
    [InlineData(8, 4, 1UL << 20, "parent locator 0 is 1048576 bytes long")]
    [InlineData(16, 8, 1UL << 40, "parent locator 0 data at 0x10000000000 lies past the end of the file")]
    public void HostileParentLocatorIsRefused(int field, int width, ulong value, string expected)
    {
        string child = Child();
        VhdFileEditor.PatchHeader(child, 576 + field, width, value);
        Assert.Contains(expected, Refused(child));
    }

    [Fact]
    public void DifferencingDiskNamingNoParentIsRefused()
    {
        string child = Child();
        for (int i = 0; i < VhdDynamicHeader.LocatorCount; i++)
        {
            VhdFileEditor.PatchHeader(child, 576 + (i * 24), 4, 0);
        }

        VhdFileEditor.PatchHeader(child, 64, 8, 0); // first UTF-16 units of the parent name
        Assert.Contains("names no parent", Refused(child, parentProblem: true));
    }

    [Fact]
    public void AccessesOutsideTheDiskAndWritesToReadOnlyImagesFail()
    {
        string path = Dynamic();
        using (var disk = DiskImage.Open(path, readOnly: true))
        {
            Assert.Throws<IOException>(() => disk.Write(0, new byte[512]));
            Assert.Throws<IOException>(() => disk.Read(disk.Size - 100, new byte[512]));
        }

        using var writable = DiskImage.Open(path);
        Assert.Throws<IOException>(() => writable.Write(writable.Size, new byte[1]));
        Assert.Throws<IOException>(() => writable.WriteZeroes(writable.Size - 512, 1024));
    }

    /// <summary>The message DiskImage.Open refuses the image with; img info must refuse it too unless only the parent is bad.</summary>
    private static string Refused(string path, bool parentProblem = false)
    {
        if (!parentProblem)
        {
            Assert.Throws<DiskImageException>(() => DiskImageInspector.Inspect(path, "vpc"));
        }

        return Assert.Throws<DiskImageException>(() => DiskImage.Open(path, "vpc", readOnly: true).Dispose()).Message;
    }

    private string Fixed()
    {
        string path = _temp.File("fixed.vhd");
        VhdImage.Create(path, 1 << 20, VhdDiskType.Fixed);
        return path;
    }

    private string Dynamic()
    {
        string path = _temp.File("dynamic.vhd");
        VhdImage.Create(path, 4 << 20, blockSize: 1 << 20);
        return path;
    }

    private string Child()
    {
        VhdImage.Create(_temp.File("parent.vhd"), 1 << 20);
        string child = _temp.File("child.vhd");
        VhdImage.Create(child, 0, parent: "parent.vhd");
        return child;
    }
}
