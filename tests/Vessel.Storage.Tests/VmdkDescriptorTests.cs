using System.Text;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage.Tests;

public sealed class VmdkDescriptorTests
{
    [Theory]
    [InlineData("# Disk DescriptorFile\nversion=1\n", true)]
    [InlineData("# written by a tool\n\n   \nversion=1\nCID=1\n", true)]
    [InlineData("# comment\r\nversion=3\r\n", true)]
    [InlineData("version=2\n", true)]
    [InlineData("version=4\n", false)]
    [InlineData("# only a comment\n", false)]
    [InlineData("hello\nversion=1\n", false)]
    [InlineData("version=1", false)]
    public void RecognisesDescriptorsLikeQemu(string head, bool expected)
    {
        Assert.Equal(expected, VmdkDescriptor.LooksLikeDescriptor(Encoding.ASCII.GetBytes(head)));
        Assert.Equal(expected ? ImageFormat.Vmdk : ImageFormat.Raw, ImageFormatDetector.Detect(Encoding.ASCII.GetBytes(head), []));
    }

    [Fact]
    public void ParsesWhatItWrites()
    {
        var descriptor = new VmdkDescriptor
        {
            CreateType = "twoGbMaxExtentFlat",
            Cid = 0x1234abcd,
            ParentCid = 0xfffffffe,
            ParentFileNameHint = "base image.vmdk",
            Extents =
            [
                new VmdkExtentLine(VmdkExtentAccess.ReadWrite, 4194304, VmdkExtentType.Flat, "a b-f001.vmdk", 0),
                new VmdkExtentLine(VmdkExtentAccess.ReadOnly, 2048, VmdkExtentType.Sparse, "s.vmdk", 0),
                new VmdkExtentLine(VmdkExtentAccess.ReadWrite, 100, VmdkExtentType.Zero, null, 0),
                new VmdkExtentLine(VmdkExtentAccess.ReadWrite, 8, VmdkExtentType.Flat, "x.bin", 77),
            ],
        };
        string text = descriptor.ToText(1 << 30);
        var parsed = VmdkDescriptor.Parse(Encoding.UTF8.GetBytes(text), "test", requireExtents: true);
        Assert.Equal(descriptor.CreateType, parsed.CreateType);
        Assert.Equal(descriptor.Cid, parsed.Cid);
        Assert.Equal(descriptor.ParentCid, parsed.ParentCid);
        Assert.Equal(descriptor.ParentFileNameHint, parsed.ParentFileNameHint);
        Assert.Equal(descriptor.Extents, parsed.Extents);

        var changed = VmdkDescriptor.Parse(Encoding.UTF8.GetBytes(parsed.TextWithCid(0x42)), "test", requireExtents: true);
        Assert.Equal(0x42u, changed.Cid);
        Assert.Equal(descriptor.ParentCid, changed.ParentCid); // parentCID is not the CID line
    }

    [Fact]
    public void ZeroExtentsAndReadOnlyExtentsWork()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a.bin"), TestData.Pattern(4096, 1));
        File.WriteAllBytes(temp.File("b.bin"), TestData.Pattern(8192, 2));
        string path = temp.File("mixed.vmdk");
        File.WriteAllText(path, "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"custom\"\n" +
            "RW 8 FLAT \"a.bin\" 0\r\nRW\t4 ZERO\nRDONLY  8  FLAT  \"b.bin\"  8\n");
        using var disk = DiskImage.Open(path);
        Assert.Equal(20UL * 512, disk.Size);
        Assert.Equal(TestData.Pattern(4096, 1), TestData.ReadAll(disk, 0, 4096));
        Assert.Equal(new byte[2048], TestData.ReadAll(disk, 4096, 2048));
        Assert.Equal(TestData.Pattern(8192, 2).AsSpan(4096).ToArray(), TestData.ReadAll(disk, 6144, 4096));

        disk.Write(512, TestData.Pattern(1024, 3)); // inside the RW extent
        Assert.Equal(TestData.Pattern(1024, 3), TestData.ReadAll(disk, 512, 1024));
        Assert.Throws<IOException>(() => disk.Write(4096, new byte[512])); // ZERO extent
        Assert.Throws<IOException>(() => disk.Write(6144, new byte[512])); // RDONLY extent
        Assert.Throws<IOException>(() => disk.Write(3584, new byte[1024])); // straddles into ZERO
        Assert.Equal(TestData.Pattern(8192, 2), File.ReadAllBytes(temp.File("b.bin")));
    }
}
