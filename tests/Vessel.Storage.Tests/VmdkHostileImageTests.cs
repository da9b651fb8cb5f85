using System.Buffers.Binary;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage.Tests;

/// <summary>Malformed or malicious VMDK files are refused with a message: no crash, no hang, no huge allocation.</summary>
public sealed class VmdkHostileImageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(4, 4, 7UL, "version 7")]
    [InlineData(20, 8, 3UL, "grain size 3 sectors")]
    [InlineData(20, 8, 1UL << 40, "grain size 1099511627776")]
    [InlineData(20, 8, 0UL, "grain size 0")]
    [InlineData(44, 4, 100_000UL, "grain table size 100000")]
    [InlineData(44, 4, 0UL, "grain table size 0")]
    [InlineData(12, 8, 1UL << 60, "capacity")]
    [InlineData(12, 8, 1UL << 50, "absurd")]
    [InlineData(56, 8, 1UL << 40, "grain directory at sector 1099511627776")]
    [InlineData(48, 8, 1UL << 40, "redundant grain directory at sector")]
    [InlineData(64, 8, 1UL << 30, "truncated")]
    [InlineData(77, 2, 5UL, "compression algorithm 5")]
    public void HostileHeaderFieldIsRefused(int offset, int width, ulong value, string expected)
    {
        string path = _temp.File("bad.vmdk");
        VmdkImage.Create(path, 64 << 20);
        ImageFileEditor.PatchLittleEndian(path, offset, width, value);
        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void GrainDirectoryEntryPastEndIsRefused()
    {
        string path = _temp.File("gd.vmdk");
        VmdkImage.Create(path, 64 << 20);
        ulong directory = ReadHeaderField(path, 56);
        ImageFileEditor.PatchLittleEndian(path, (int)(directory * 512) + 4, 4, 0x0fff_ffff);
        Assert.Contains("grain directory entry 1 points to a grain table at sector 268435455", Refused(path));
    }

    [Fact]
    public void GrainTableEntryPastEndFailsTheRead()
    {
        string path = _temp.File("gt.vmdk");
        VmdkImage.Create(path, 64 << 20);
        ulong directory = ReadHeaderField(path, 56);
        byte[] file = File.ReadAllBytes(path);
        uint table = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)(directory * 512)));
        ImageFileEditor.PatchLittleEndian(path, (int)(table * 512) + 8, 4, 0x7fff_0000);
        using var disk = DiskImage.Open(path, readOnly: true);
        Assert.Equal(new byte[4096], TestData.ReadAll(disk, 0, 4096)); // grain 0 is fine
        var error = Assert.Throws<IOException>(() => disk.Read(2 * 65536, new byte[512]));
        Assert.Contains("points to sector 2147418112, past the end of the file", error.Message);
    }

    [Theory]
    [InlineData(100, "truncated header")]
    [InlineData(4096, "VMDK file is truncated")]
    public void TruncatedFileIsRefused(int length, string expected)
    {
        string path = _temp.File("short.vmdk");
        VmdkImage.Create(path, 64 << 20);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(length);
        }

        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void RawFileForcedAsVmdkIsRefused()
    {
        string path = _temp.File("plain.raw");
        File.WriteAllBytes(path, TestData.Pattern(4096, 1));
        Assert.Contains("not a VMDK image", Assert.Throws<DiskImageException>(() => DiskImage.Open(path, "vmdk", readOnly: true)).Message);
    }

    [Fact]
    public void StreamOptimizedIsReadOnly()
    {
        string path = _temp.File("stream.vmdk");
        VmdkImage.Create(path, 8 << 20, VmdkSubformat.StreamOptimized);
        Assert.Contains("only be opened read-only", Refused(path, readOnly: false));
        using var disk = DiskImage.Open(path, readOnly: true);
        Assert.Throws<IOException>(() => disk.Write(0, new byte[512]));
    }

    [Fact]
    public void DamagedStreamFooterIsRefused()
    {
        string path = _temp.File("cut.vmdk");
        WriteStream(path);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(stream.Length - 512); // the end-of-stream marker is gone
        }

        Assert.Contains("footer is missing or damaged", Refused(path));
    }

    [Theory]
    [InlineData(12 + 2, "does not inflate")]
    [InlineData(8, "invalid size")]
    [InlineData(0, "is for sector")]
    public void DamagedCompressedGrainFailsTheRead(int at, string expected)
    {
        string path = _temp.File("grain.vmdk");
        WriteStream(path);
        const int FirstGrain = 128 * 512; // Vessel's stream puts the first grain marker right after the overhead
        byte[] file = File.ReadAllBytes(path);
        for (int i = 0; i < 4; i++)
        {
            file[FirstGrain + at + i] ^= 0x5a;
        }

        File.WriteAllBytes(path, file);
        using var disk = DiskImage.Open(path, readOnly: true);
        var error = Assert.Throws<IOException>(() => disk.Read(0, new byte[4096]));
        Assert.Contains(expected, error.Message);
        Assert.Equal(new byte[512], TestData.ReadAll(disk, 5UL << 20, 512)); // other grains still read
    }

    [Theory]
    [InlineData("RW 2048 FLAT \"/etc/passwd\" 0", "is absolute")]
    [InlineData("RW 2048 FLAT \"../outside.bin\" 0", "leaves the descriptor's folder")]
    [InlineData("RW 2048 FLAT \"sub/../../outside.bin\" 0", "leaves the descriptor's folder")]
    [InlineData("RW 2048 FLAT \"missing.bin\" 0", "cannot open VMDK extent 'missing.bin'")]
    [InlineData("RW 4096 FLAT \"data.bin\" 0", "has 1048576 bytes, but the descriptor needs 2097152")]
    [InlineData("RW 2048 FLAT \"data.bin\" 1", "has 1048576 bytes, but the descriptor needs 1049088")]
    [InlineData("RW 2048 FLAT \"desc.vmdk\" 0", "the descriptor file itself")]
    [InlineData("RW 2048 SPARSE \"data.bin\"", "bad magic")]
    [InlineData("RW 2048 VMFSRDM \"data.bin\"", "'VMFSRDM' on line 6 is not supported")]
    [InlineData("NOACCESS 2048 FLAT \"data.bin\" 0", "NOACCESS")]
    [InlineData("RW lots FLAT \"data.bin\" 0", "bad sector count 'lots'")]
    [InlineData("RW 0 FLAT \"data.bin\" 0", "bad sector count '0'")]
    [InlineData("RW 2048 FLAT \"data.bin", "unterminated file name")]
    [InlineData("RW 2048 FLAT data.bin 0", "missing quoted file name")]
    [InlineData("RW 2048 FLAT \"data.bin\" -5", "bad offset '-5'")]
    [InlineData("# none", "lists no extents")]
    public void HostileDescriptorIsRefused(string extentLine, string expected)
    {
        File.WriteAllBytes(_temp.File("data.bin"), new byte[1 << 20]);
        string path = WriteDescriptor("desc.vmdk", extentLine);
        Assert.Equal(ImageFormat.Vmdk, ImageFormatDetector.Detect(path));
        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void ExtentLinkLeavingTheFolderIsRefused()
    {
        using var outside = new TempFolder();
        File.WriteAllBytes(outside.File("secret.bin"), new byte[1 << 20]);
        File.CreateSymbolicLink(_temp.File("link.bin"), outside.File("secret.bin"));
        string path = WriteDescriptor("desc.vmdk", "RW 2048 FLAT \"link.bin\" 0");
        Assert.Contains("is a link that leaves the descriptor's folder", Refused(path));

        File.WriteAllBytes(_temp.File("inside.bin"), new byte[1 << 20]);
        File.CreateSymbolicLink(_temp.File("inner-link.bin"), _temp.File("inside.bin"));
        string ok = WriteDescriptor("ok.vmdk", "RW 2048 FLAT \"inner-link.bin\" 0");
        using var disk = DiskImage.Open(ok, readOnly: true);
        Assert.Equal(1UL << 20, disk.Size);
    }

    [Fact]
    public void SparseExtentOfWrongCapacityIsRefused()
    {
        VmdkImage.Create(_temp.File("part.vmdk"), 1 << 20);
        string path = WriteDescriptor("desc.vmdk", "RW 4096 SPARSE \"part.vmdk\"");
        Assert.Contains("holds 2048 sectors, but the descriptor says 4096", Refused(path));
    }

    [Fact]
    public void DescriptorWithoutCreateTypeIsRefused()
    {
        string path = _temp.File("nocreate.vmdk");
        File.WriteAllText(path, "# Disk DescriptorFile\nversion=1\nRW 8 ZERO\n");
        Assert.Contains("no createType", Refused(path));
    }

    [Fact]
    public void OversizedDescriptorIsRefused()
    {
        string path = _temp.File("huge.vmdk");
        using (var stream = File.Create(path))
        {
            stream.Write("# Disk DescriptorFile\nversion=1\n"u8);
            stream.SetLength(2 << 20);
        }

        Assert.Contains("too large for a VMDK descriptor", Refused(path));
    }

    [Fact]
    public void TooManyExtentsAreRefused()
    {
        string path = WriteDescriptor("many.vmdk", string.Concat(Enumerable.Repeat("RW 8 ZERO\n", 5000)));
        Assert.Contains("more than 4096 extents", Refused(path));
    }

    [Fact]
    public void ParentLoopIsRefused()
    {
        string path = _temp.File("self.vmdk");
        VmdkImage.Create(path, 1 << 20);
        uint cid;
        using (var image = VmdkImage.Open(path, readOnly: true))
        {
            cid = image.Cid;
        }

        RewriteEmbeddedDescriptor(path, text => text.Replace("parentCID=ffffffff", $"parentCID={cid:x8}\nparentFileNameHint=\"self.vmdk\"", StringComparison.Ordinal));
        Assert.Contains("loop", Refused(path));
    }

    [Fact]
    public void ParentWithChangedCidIsRefused()
    {
        string parent = _temp.File("parent.vmdk");
        string child = _temp.File("child.vmdk");
        VmdkImage.Create(parent, 1 << 20);
        VmdkImage.Create(child, 1 << 20);
        RewriteEmbeddedDescriptor(child, text => text.Replace("parentCID=ffffffff", "parentCID=12345678\nparentFileNameHint=\"parent.vmdk\"", StringComparison.Ordinal));
        Assert.Contains("expects 12345678", Refused(child));
    }

    [Theory]
    [InlineData(VmdkSubformat.MonolithicSparse, 0UL, "at least 512 bytes")]
    [InlineData(VmdkSubformat.StreamOptimized, 0UL, "at least 512 bytes")]
    [InlineData(VmdkSubformat.MonolithicFlat, 0UL, "at least 512 bytes")]
    [InlineData(VmdkSubformat.MonolithicSparse, 3UL << 40, "at most 2 TiB")]
    public void UnusableSizesAreRefusedAtCreation(VmdkSubformat subformat, ulong size, string expected)
    {
        string path = _temp.File("size.vmdk");
        Assert.Contains(expected, Assert.Throws<DiskImageException>(() => VmdkImage.Create(path, size, subformat)).Message);
        Assert.Empty(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void FlatConvertNeverOverwritesItsSource()
    {
        string source = _temp.File("disk-flat.vmdk");
        File.WriteAllBytes(source, TestData.Pattern(1 << 20, 5));
        var error = Assert.Throws<DiskImageException>(() =>
            ImageConverter.Convert(source, "raw", _temp.File("disk.vmdk"), ImageFormat.Vmdk, vmdkSubformat: VmdkSubformat.MonolithicFlat));
        Assert.Contains("would replace the source image", error.Message);
        Assert.Equal(TestData.Pattern(1 << 20, 5), File.ReadAllBytes(source));
        Assert.False(File.Exists(_temp.File("disk.vmdk")));
    }

    /// <summary>Rewrites the descriptor embedded at sector 1 of a Vessel-created monolithicSparse file.</summary>
    internal static void RewriteEmbeddedDescriptor(string path, Func<string, string> change)
    {
        byte[] file = File.ReadAllBytes(path);
        var region = file.AsSpan(512, 20 * 512);
        string text = System.Text.Encoding.ASCII.GetString(region).TrimEnd('\0');
        byte[] changed = System.Text.Encoding.ASCII.GetBytes(change(text));
        Assert.True(changed.Length < region.Length);
        region.Clear();
        changed.CopyTo(region);
        File.WriteAllBytes(path, file);
    }

    private void WriteStream(string path)
    {
        string raw = _temp.File("stream-source.raw");
        RawImage.Create(raw, 8 << 20);
        using (var disk = DiskImage.Open(raw, "raw"))
        {
            disk.Write(0, TestData.Pattern(200_000, 4));
        }

        ImageConverter.Convert(raw, "raw", path, ImageFormat.Vmdk, vmdkSubformat: VmdkSubformat.StreamOptimized);
    }

    private string WriteDescriptor(string name, string extentLines)
    {
        string path = _temp.File(name);
        File.WriteAllText(path, $"# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n{extentLines}\n");
        return path;
    }

    private static string Refused(string path, bool readOnly = true) =>
        Assert.Throws<DiskImageException>(() => DiskImage.Open(path, readOnly: readOnly).Dispose()).Message;

    private static ulong ReadHeaderField(string path, int offset)
    {
        byte[] header = new byte[512];
        using var stream = File.OpenRead(path);
        stream.ReadExactly(header);
        return BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(offset));
    }

}
