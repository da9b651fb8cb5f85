using Vessel.Storage.Vdi;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage.Tests;

/// <summary>
/// <c>vessel img check</c> for VMDK and VDI: clean images (Vessel's own and qemu-img's) pass, and each kind of
/// metadata damage that an open tolerates read-only is counted as a corruption with a message naming it.
/// </summary>
public sealed class VmdkVdiCheckTests : IDisposable
{
    private const int VdiMap = 0x200; // VdiImage.Create puts the block map right after the header

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void VdiWrittenByVesselIsClean()
    {
        string path = VdiWithTwoBlocks();
        var result = VdiChecker.Check(path);
        Assert.True(result.IsClean, string.Join('\n', result.Messages));
        Assert.Equal(2UL, result.AllocatedClusters);
        Assert.Equal(8UL, result.TotalClusters);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void VdiMapEntryBeyondTheImageIsACorruption()
    {
        string path = VdiWithTwoBlocks();
        ImageFileEditor.PatchLittleEndian(path, VdiMap + 4, 4, 5000);
        var result = VdiChecker.Check(path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(result.Messages, m => m.Contains("block 1 maps to data block 5000", StringComparison.Ordinal));
    }

    [Fact]
    public void VdiDataBlockUsedTwiceIsACorruption()
    {
        string path = VdiWithTwoBlocks();
        uint first = ImageFileEditor.ReadUInt32LittleEndian(path, VdiMap);
        ImageFileEditor.PatchLittleEndian(path, VdiMap + 12, 4, first);
        ImageFileEditor.PatchLittleEndian(path, 0x184, 4, 3);
        var result = VdiChecker.Check(path);
        Assert.Equal(1, result.Corruptions);
        Assert.Contains($"block 3 maps to data block {first}, which block 0 also uses", result.Messages[0]);
    }

    [Fact]
    public void VdiAllocatedCountMismatchAndTruncatedDataAreCorruptions()
    {
        string path = VdiWithTwoBlocks();
        ImageFileEditor.PatchLittleEndian(path, 0x184, 4, 7);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(stream.Length - (512 << 10));
        }

        var result = VdiChecker.Check(path);
        Assert.Equal(2, result.Corruptions);
        Assert.Contains(result.Messages, m => m.Contains("lies past the end of the file", StringComparison.Ordinal));
        Assert.Contains(result.Messages, m => m.Contains("header says 7 blocks are allocated, the block map uses 2", StringComparison.Ordinal));
    }

    [Fact]
    public void VmdkWrittenByVesselIsClean()
    {
        string path = VmdkWithTwoGrains();
        var result = VmdkImage.Check(path);
        Assert.True(result.IsClean, string.Join('\n', result.Messages));
        Assert.Equal(2UL, result.AllocatedClusters);
        Assert.Equal(1024UL, result.TotalClusters);
    }

    [Theory]
    [InlineData("past", "points to sector 2147418112, past the end of the file")]
    [InlineData("metadata", "points to sector 2, inside the image's metadata")]
    [InlineData("table", "inside the image's metadata")]
    [InlineData("shared", "which grain 0 also uses")]
    public void VmdkGrainDamageIsACorruption(string damage, string expected)
    {
        string path = VmdkWithTwoGrains();
        ulong directory = ReadLittleEndian64(path, 56);
        uint table = ImageFileEditor.ReadUInt32LittleEndian(path, (long)directory * 512);
        uint grain0 = ImageFileEditor.ReadUInt32LittleEndian(path, table * 512L);
        uint value = damage switch
        {
            "past" => 0x7fff_0000,
            "metadata" => 2, // 1 means "zeroed grain"
            "table" => table,
            _ => grain0,
        };
        ImageFileEditor.PatchLittleEndian(path, (table * 512L) + 4, 4, value);
        var result = VmdkImage.Check(path);
        Assert.Equal(1, result.Corruptions);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Messages[0]);
        Assert.Contains("grain 1 ", result.Messages[0]);
    }

    [QemuImgTheory]
    [InlineData("vmdk", "subformat=monolithicSparse")]
    [InlineData("vmdk", "subformat=streamOptimized")]
    [InlineData("vdi", "static=off")]
    [InlineData("vdi", "static=on")]
    public void ImagesQemuImgWritesAreCleanAndCounted(string format, string options)
    {
        string raw = _temp.File("source.raw");
        using (var stream = File.Create(raw))
        {
            stream.SetLength(8 << 20);
            stream.Position = 3 << 20;
            stream.Write(TestData.Pattern(100_000, 7));
        }

        string image = _temp.File("image." + format);
        QemuImg.Succeed("convert", "-f", "raw", "-O", format, "-o", options, raw, image);
        Assert.Equal(0, QemuImg.Run("check", image).ExitCode);
        var result = format == "vdi" ? VdiChecker.Check(image) : VmdkImage.Check(image);
        Assert.True(result.IsClean, string.Join('\n', result.Messages));
        Assert.True(result.AllocatedClusters > 0);
        Assert.Equal(options.Contains("streamOptimized", StringComparison.Ordinal), result.CompressedClusters > 0);
    }

    private string VdiWithTwoBlocks()
    {
        string path = _temp.File("disk.vdi");
        VdiImage.Create(path, 8 << 20);
        using var disk = DiskImage.Open(path);
        disk.Write(0, TestData.Pattern(4096, 1));
        disk.Write(5 << 20, TestData.Pattern(4096, 2));
        disk.Flush();
        return path;
    }

    private string VmdkWithTwoGrains()
    {
        string path = _temp.File("disk.vmdk");
        VmdkImage.Create(path, 64 << 20);
        using var disk = DiskImage.Open(path);
        disk.Write(0, TestData.Pattern(4096, 1));
        disk.Write(65536, TestData.Pattern(4096, 2));
        disk.Flush();
        return path;
    }

    private static ulong ReadLittleEndian64(string path, long offset) =>
        ImageFileEditor.ReadUInt32LittleEndian(path, offset) | ((ulong)ImageFileEditor.ReadUInt32LittleEndian(path, offset + 4) << 32);
}
