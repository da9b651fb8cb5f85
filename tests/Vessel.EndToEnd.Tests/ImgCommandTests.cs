using System.Buffers.Binary;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.EndToEnd.Tests;

/// <summary>The <c>vessel img</c> maintenance commands run as a user would: arguments, output and exit codes.</summary>
public sealed class ImgCommandTests : IDisposable
{
    private const ulong Size = 2UL << 20;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly string _folder = Directory.CreateTempSubdirectory("vessel-img-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task SnapshotCreateListApplyDelete()
    {
        string disk = File("disk.qcow2");
        string before = File("before.raw");
        Qcow2Image.Create(disk, Size);
        RawImage.Create(before, Size);
        Fill(disk, 1);
        Fill(before, 1);
        Assert.Equal(0, (await Vessel("img", "snapshot", "-c", "clean", disk)).Code);
        Fill(disk, 2);
        Assert.Equal(1, (await Vessel("img", "compare", disk, before)).Code);

        var list = await Vessel("img", "snapshot", "-l", disk);
        Assert.Equal(0, list.Code);
        Assert.Contains("Snapshot list:", list.Output);
        Assert.Matches(@"\n1\s+clean\s+0 B \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 00:00:00\.000", list.Output);

        Assert.Equal(0, (await Vessel("img", "snapshot", "-a", "clean", disk)).Code);
        Assert.Equal(0, (await Vessel("img", "compare", disk, before)).Code);
        Assert.Equal(0, (await Vessel("img", "snapshot", "-d", "1", disk)).Code);
        var missing = await Vessel("img", "snapshot", "-a", "clean", disk);
        Assert.Equal(1, missing.Code);
        Assert.Contains("no snapshot", missing.Output);
        Assert.Equal(2, (await Vessel("img", "snapshot", "-l", "-d", "x", disk)).Code);
        Assert.Equal(0, (await Vessel("img", "check", disk)).Code);
    }

    [Fact]
    public async Task CheckRepairsLeaksAndReportsExitCodes()
    {
        string disk = File("leaky.qcow2");
        Qcow2Image.Create(disk, Size);
        Fill(disk, 3);
        LeakHeaderCluster(disk);
        var check = await Vessel("img", "check", disk);
        Assert.Equal(3, check.Code);
        Assert.Contains("1 leaked clusters were found", check.Output);

        var repair = await Vessel("img", "check", "-r", "leaks", disk);
        Assert.Equal(0, repair.Code);
        Assert.Contains("Repairing cluster 0 refcount=2 reference=1", repair.Output);
        Assert.Contains("Double checking the fixed image now...", repair.Output);
        Assert.Contains("No errors were found on the image.", repair.Output);
        Assert.Equal(2, (await Vessel("img", "check", "-r", "some", disk)).Code);
    }

    [Theory]
    [InlineData("vmdk")]
    [InlineData("vdi")]
    public async Task CheckFindsVmdkAndVdiDamageAndRefusesRepairs(string format)
    {
        string disk = File("disk." + format);
        Assert.Equal(0, (await Vessel("img", "create", "-f", format, disk, "2M")).Code);
        Fill(disk, 4);
        var clean = await Vessel("img", "check", disk);
        Assert.Equal(0, clean.Code);
        Assert.Contains("No errors were found on the image.", clean.Output);

        var repair = await Vessel("img", "check", "-r", "all", disk);
        Assert.Equal(63, repair.Code);
        Assert.Contains("only supported for qcow2", repair.Output);

        // Point the first map/grain-table entry past the end of the file: a corruption, exit code 2.
        long entry = format == "vdi" ? 0x200 : FirstGrainTableEntry(disk);
        using (var stream = new FileStream(disk, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = entry;
            stream.Write(format == "vdi" ? [0x00, 0x10, 0x00, 0x00] : [0x00, 0x00, 0xff, 0x7f]);
        }

        var damaged = await Vessel("img", "check", disk);
        Assert.Equal(2, damaged.Code);
        Assert.Contains("errors were found on the image", damaged.Output);
    }

    [Fact]
    public async Task ResizeRebaseCommitCompareMap()
    {
        string baseImage = File("base.qcow2");
        string overlay = File("overlay.qcow2");
        Qcow2Image.Create(baseImage, Size);
        Fill(baseImage, 4);
        Qcow2Image.Create(overlay, Size, backingFile: "base.qcow2", backingFormat: "qcow2");
        Fill(overlay, 5, Size / 2);

        var map = await Vessel("img", "map", "--output", "json", overlay);
        Assert.Equal(0, map.Code);
        Assert.Contains("\"depth\": 0, \"present\": true, \"zero\": false, \"data\": true, \"offset\":", map.Output);
        Assert.Contains("\"depth\": 1", map.Output);
        Assert.Contains("Mapped to", (await Vessel("img", "map", overlay)).Output);

        // Rebase onto a copy of the base: nothing to copy, the content stays the same.
        System.IO.File.Copy(baseImage, File("copy.qcow2"));
        Assert.Equal(0, (await Vessel("img", "rebase", "-b", "copy.qcow2", "-F", "qcow2", overlay)).Code);
        var flat = File("flat.raw");
        Assert.Equal(0, (await Vessel("img", "convert", "-O", "raw", overlay, flat)).Code);
        Assert.Equal(0, (await Vessel("img", "commit", overlay)).Code);
        Assert.Equal(0, (await Vessel("img", "compare", File("copy.qcow2"), flat)).Code);
        Assert.Equal(0, (await Vessel("img", "compare", overlay, flat)).Code);
        Assert.Equal(0, (await Vessel("img", "check", File("copy.qcow2"))).Code);

        Assert.Equal(1, (await Vessel("img", "resize", flat, "-1M")).Code);
        Assert.Equal(0, (await Vessel("img", "resize", "--shrink", flat, "-1M")).Code);
        var compare = await Vessel("img", "compare", overlay, flat);
        Assert.Equal(1, compare.Code);
        Assert.Contains($"Content mismatch at offset {Size / 2}!", compare.Output);
        Assert.Equal(0, (await Vessel("img", "resize", overlay, "+1M")).Code);
        Assert.Equal(0, (await Vessel("img", "check", overlay)).Code);
        Assert.Equal(2, (await Vessel("img", "compare", overlay, File("missing.raw"))).Code);
    }

    private static async Task<(int Code, string Output)> Vessel(params string[] arguments)
    {
        await using var vessel = VesselProcess.Start(arguments);
        int code = await vessel.WaitForExitAsync(Timeout);
        return (code, vessel.Output);
    }

    private string File(string name) => Path.Combine(_folder, name);

    /// <summary>Writes a recognisable pattern over the disk's first <paramref name="length"/> bytes (default: all of it).</summary>
    private static void Fill(string path, int seed, ulong length = Size)
    {
        using var disk = DiskImage.Open(path);
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        disk.Write(0, data);
    }

    /// <summary>Raises the header cluster's refcount to 2: a leak (refcount above the references).</summary>
    private static void LeakHeaderCluster(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        byte[] field = new byte[8];
        stream.Position = 48;
        stream.ReadExactly(field);
        stream.Position = (long)BinaryPrimitives.ReadUInt64BigEndian(field);
        stream.ReadExactly(field);
        stream.Position = (long)BinaryPrimitives.ReadUInt64BigEndian(field);
        stream.Write([0, 2]);
    }

    /// <summary>VMDK hosted sparse header: the grain directory's sector at byte 56; its first entry names grain table 0.</summary>
    private static long FirstGrainTableEntry(string path)
    {
        byte[] header = System.IO.File.ReadAllBytes(path);
        long directory = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(56));
        return BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan((int)(directory * 512))) * 512L;
    }
}
