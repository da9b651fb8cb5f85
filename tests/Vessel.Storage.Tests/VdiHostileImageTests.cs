using System.Buffers.Binary;
using Vessel.Storage.Vdi;

namespace Vessel.Storage.Tests;

/// <summary>Malformed or malicious VDI files are refused with a message: no crash, no hang, no huge allocation.</summary>
public sealed class VdiHostileImageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(0x40, 4, 0x12345678UL, "not a VDI image")]
    [InlineData(0x44, 4, 0x00010000UL, "VDI version 1.0")]
    [InlineData(0x4c, 4, 4UL, "differencing")]
    [InlineData(0x4c, 4, 9UL, "type 9")]
    [InlineData(0x1b8, 4, 1UL, "linked to a parent")]
    [InlineData(0x168, 4, 4096UL, "sector size 4096")]
    [InlineData(0x178, 4, 3000UL, "block size 3000")]
    [InlineData(0x178, 4, 1UL << 30, "block size 1073741824")]
    [InlineData(0x17c, 4, 16UL, "extra data (16 bytes)")]
    [InlineData(0x180, 4, 0xffff_ffffUL, "4294967295 entries is too large")]
    [InlineData(0x180, 4, 2UL, "larger than its 2 blocks")]
    [InlineData(0x170, 8, 1UL << 40, "disk size 1099511627776")]
    [InlineData(0x154, 4, 0x201UL, "block map offset 513")]
    [InlineData(0x158, 4, 0x200UL, "overlaps the data")]
    [InlineData(0x154, 4, 0x10_0000UL, "overlaps the data")]
    [InlineData(0x184, 4, 1000UL, "1000 blocks are allocated")]
    public void HostileHeaderFieldIsRefused(int offset, int width, ulong value, string expected)
    {
        string path = _temp.File("bad.vdi");
        VdiImage.Create(path, 8 << 20);
        ImageFileEditor.PatchLittleEndian(path, offset, width, value);
        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void TruncatedFilesAreRefused()
    {
        string path = _temp.File("short.vdi");
        VdiImage.Create(path, 8 << 20);
        SetLength(path, 300);
        Assert.Contains("truncated header", Refused(path));

        string cut = _temp.File("cut.vdi");
        QemuStyleImage(cut, 64 << 20);
        SetLength(cut, 520); // the block map ends at 0x200 + 64 * 4
        Assert.Contains("block map ends past the end of the file", Refused(cut));
    }

    [Fact]
    public void MapEntryBeyondTheImageIsRefused()
    {
        string path = _temp.File("map.vdi");
        VdiImage.Create(path, 8 << 20);
        ImageFileEditor.PatchLittleEndian(path, 0x200 + 12, 4, 5000);
        Assert.Contains("block 3 maps to data block 5000", Refused(path));
    }

    [Fact]
    public void DataBlockUsedTwiceIsRefused()
    {
        string path = _temp.File("twice.vdi");
        VdiImage.Create(path, 8 << 20);
        ImageFileEditor.PatchLittleEndian(path, 0x200, 4, 0);
        ImageFileEditor.PatchLittleEndian(path, 0x200 + 4, 4, 0);
        ImageFileEditor.PatchLittleEndian(path, 0x184, 4, 2);
        Assert.Contains("data block 0 is used twice (block 1)", Refused(path));
    }

    [Fact]
    public void AllocatedCountIsRepairedWhenTheMapIsDense()
    {
        string path = _temp.File("count.vdi");
        VdiImage.Create(path, 8 << 20);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, TestData.Pattern(4096, 1));
            disk.Write(3 << 20, TestData.Pattern(4096, 2));
        }

        ImageFileEditor.PatchLittleEndian(path, 0x184, 4, 1); // as after a crash between writing the map and the header
        using (var disk = DiskImage.Open(path, readOnly: true))
        {
            Assert.Equal(TestData.Pattern(4096, 2), TestData.ReadAll(disk, 3 << 20, 4096));
        }

        using (var disk = DiskImage.Open(path))
        {
            disk.Write(5 << 20, TestData.Pattern(4096, 3)); // must not reuse data block 1
            Assert.Equal(TestData.Pattern(4096, 2), TestData.ReadAll(disk, 3 << 20, 4096));
        }

        byte[] header = File.ReadAllBytes(path).AsSpan(0, 512).ToArray();
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(0x184)));
        if (QemuImg.Path is not null)
        {
            QemuImg.Succeed("check", path);
        }
    }

    [Fact]
    public void AllocatedCountWithGapsOpensOnlyReadOnly()
    {
        string path = _temp.File("gaps.vdi");
        VdiImage.Create(path, 8 << 20);
        ImageFileEditor.PatchLittleEndian(path, 0x200, 4, 2); // block 0 -> data block 2, with 0 and 1 unused
        ImageFileEditor.PatchLittleEndian(path, 0x184, 4, 2);
        Assert.Contains("with gaps", Refused(path, readOnly: false));
        using var disk = DiskImage.Open(path, readOnly: true);
        Assert.Equal(8UL << 20, disk.Size);
    }

    private static void QemuStyleImage(string path, ulong size)
    {
        // Like qemu-img's layout: the data area starts right after the block map.
        VdiImage.Create(path, size);
        byte[] header = File.ReadAllBytes(path).AsSpan(0, 0x400).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(0x158), 0x400);
        File.WriteAllBytes(path, header);
    }

    private static string Refused(string path, bool readOnly = true) =>
        Assert.Throws<DiskImageException>(() => DiskImage.Open(path, "vdi", readOnly).Dispose()).Message;

    private static void SetLength(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(length);
    }

}
