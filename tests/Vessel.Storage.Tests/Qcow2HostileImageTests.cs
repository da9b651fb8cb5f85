using System.Buffers.Binary;
using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>Malformed or malicious qcow2 files are refused with a message: no crash, no hang, no huge allocation.</summary>
public sealed class Qcow2HostileImageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TruncatedHeaderIsRefused()
    {
        string path = _temp.File("short.qcow2");
        File.WriteAllBytes(path, [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3, 0, 0]);
        Assert.Contains("truncated", Refused(path));
    }

    [Theory]
    [InlineData(20, 4, 30UL, "cluster_bits 30")]
    [InlineData(20, 4, 8UL, "cluster_bits 8")]
    [InlineData(4, 4, 7UL, "version 7")]
    [InlineData(36, 4, 0x7fff_ffffUL, "L1 table has 2147483647 entries")]
    [InlineData(36, 4, 0UL, "too few for the virtual size")]
    [InlineData(40, 8, 1UL << 40, "L1 table at 0x10000000000")]
    [InlineData(40, 8, 0x10001UL, "not cluster aligned")]
    [InlineData(48, 8, 1UL << 40, "refcount table at 0x10000000000")]
    [InlineData(56, 4, 0x10_0000UL, "refcount table size")]
    [InlineData(60, 4, 1_000_000UL, "snapshots")]
    [InlineData(72, 8, 1UL << 5, "unknown feature bit 5")]
    [InlineData(72, 8, 1UL << 2, "external data file")]
    [InlineData(32, 4, 1UL, "encrypted")]
    [InlineData(100, 4, 1UL << 20, "header_length")]
    [InlineData(24, 8, ulong.MaxValue, "virtual size")]
    public void HostileHeaderFieldIsRefused(int offset, int width, ulong value, string expected)
    {
        string path = _temp.File("bad.qcow2");
        Qcow2Image.Create(path, 64 << 20);
        ImageFileEditor.PatchBigEndian(path, offset, width, value);
        Assert.Contains(expected, Refused(path));
    }

    [Fact]
    public void BackingChainLoopIsRefused()
    {
        string a = _temp.File("a.qcow2");
        string b = _temp.File("b.qcow2");
        Qcow2Image.Create(a, 1 << 20, backingFile: "b.qcow2", backingFormat: "qcow2");
        Qcow2Image.Create(b, 1 << 20, backingFile: "a.qcow2", backingFormat: "qcow2");
        Assert.Contains("loop", Refused(a));
        string self = _temp.File("self.qcow2");
        Qcow2Image.Create(self, 1 << 20, backingFile: "self.qcow2");
        Assert.Contains("loop", Refused(self));
    }

    [Fact]
    public void OverlongBackingChainIsRefused()
    {
        Qcow2Image.Create(_temp.File("0.qcow2"), 1 << 20);
        for (int i = 1; i <= DiskImage.MaxBackingChainDepth + 2; i++)
        {
            Qcow2Image.Create(_temp.File($"{i}.qcow2"), 1 << 20, backingFile: $"{i - 1}.qcow2", backingFormat: "qcow2");
        }

        using (DiskImage.Open(_temp.File($"{DiskImage.MaxBackingChainDepth}.qcow2"), readOnly: true))
        {
        }

        Assert.Contains("deeper than", Refused(_temp.File($"{DiskImage.MaxBackingChainDepth + 2}.qcow2")));
    }

    [Fact]
    public void MissingBackingFileIsNamed()
    {
        string path = _temp.File("overlay.qcow2");
        Qcow2Image.Create(path, 1 << 20, backingFile: "gone.raw", backingFormat: "raw");
        string message = Refused(path);
        Assert.Contains("backing file", message);
        Assert.Contains("gone.raw", message);
    }

    [Fact]
    public void CorruptL2PointerFailsTheReadNotTheProcess()
    {
        string path = _temp.File("l2.qcow2");
        Qcow2Image.Create(path, 64 << 20);
        ulong l1Offset = ReadField(path, 40);
        ImageFileEditor.PatchBigEndian(path, (int)l1Offset, 8, Qcow2Image.CopiedFlag | (1UL << 40));
        using (var disk = DiskImage.Open(path, readOnly: true))
        {
            Assert.Throws<IOException>(() => disk.Read(0, new byte[512]));
        }

        ImageFileEditor.PatchBigEndian(path, (int)l1Offset, 8, 0x10200); // unaligned
        using var again = DiskImage.Open(path, readOnly: true);
        Assert.Throws<IOException>(() => again.Read(0, new byte[512]));
    }

    [Fact]
    public void RandomHeaderDamageNeverCrashes()
    {
        string good = _temp.File("good.qcow2");
        Qcow2Image.Create(good, 16 << 20, 12);
        using (var disk = DiskImage.Open(good))
        {
            disk.Write(0, TestData.Pattern(1 << 20, 5));
        }

        byte[] original = File.ReadAllBytes(good);
        var random = new Random(1234);
        string path = _temp.File("fuzz.qcow2");
        for (int round = 0; round < 300; round++)
        {
            byte[] copy = (byte[])original.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                // Damage the header, L1 table or first L2/refcount clusters.
                copy[random.Next(0, 6 * 4096)] ^= (byte)(1 << random.Next(8));
            }

            File.WriteAllBytes(path, copy);
            try
            {
                using var disk = DiskImage.Open(path, "qcow2", readOnly: true);
                byte[] buffer = new byte[65536];
                for (ulong offset = 0; offset < Math.Min(disk.Size, 2UL << 20); offset += 65536)
                {
                    disk.Read(offset, buffer.AsSpan(0, (int)Math.Min(65536UL, disk.Size - offset)));
                }
            }
            catch (DiskImageException)
            {
            }
            catch (IOException)
            {
            }

            try
            {
                Qcow2Checker.Check(path);
            }
            catch (DiskImageException)
            {
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Refused(string path) =>
        Assert.Throws<DiskImageException>(() => DiskImage.Open(path, readOnly: true).Dispose()).Message;


    private static ulong ReadField(string path, int offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        byte[] bytes = new byte[8];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }
}
