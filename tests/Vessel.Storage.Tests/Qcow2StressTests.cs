using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>Random writes, zeroes and discards against an in-memory model, across reopens, then a metadata check.</summary>
public sealed class Qcow2StressTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(9, false, 0)]
    [InlineData(9, true, 8)]
    [InlineData(12, true, 0)]
    [InlineData(12, false, 8)]
    [InlineData(16, false, 0)]
    [InlineData(16, true, 8)]
    public void MatchesModel(int clusterBits, bool withBacking, int cachedTables)
    {
        const int size = 6 << 20;
        byte[] model = new byte[size];
        string path = _temp.File("stress.qcow2");
        if (withBacking)
        {
            string basePath = _temp.File("base.raw");
            RawImage.Create(basePath, size - 8192); // shorter than the overlay: the tail reads as zeroes
            byte[] baseData = TestData.Pattern(size - 8192, 77);
            using (var b = DiskImage.Open(basePath))
            {
                b.Write(0, baseData);
            }

            baseData.CopyTo(model, 0);
            Qcow2Image.Create(path, size, clusterBits, "base.raw", "raw");
        }
        else
        {
            Qcow2Image.Create(path, size, clusterBits);
        }

        var random = new Random((clusterBits * 31) + (withBacking ? 1 : 0) + cachedTables);
        for (int session = 0; session < 3; session++)
        {
            using var disk = DiskImage.Open(path);
            if (cachedTables > 0)
            {
                ((Qcow2Image)disk).MaxCachedTables = cachedTables; // exercise write-back on eviction
            }

            for (int op = 0; op < 400; op++)
            {
                int length = random.Next(1, 40) * 512;
                int offset = random.Next(0, (size - length) / 512) * 512;
                switch (random.Next(10))
                {
                    case < 6:
                        byte[] data = TestData.Pattern(length, random.Next());
                        disk.Write((ulong)offset, data);
                        data.CopyTo(model, offset);
                        break;
                    case 6:
                        disk.WriteZeroes((ulong)offset, (ulong)length);
                        Array.Clear(model, offset, length);
                        break;
                    case 7:
                        disk.Flush();
                        break;
                    default:
                        byte[] actual = TestData.ReadAll(disk, (ulong)offset, length);
                        Assert.True(actual.AsSpan().SequenceEqual(model.AsSpan(offset, length)), $"mismatch at {offset}+{length} in session {session} op {op}");
                        break;
                }
            }

            byte[] all = TestData.ReadAll(disk, 0, size);
            Assert.True(all.AsSpan().SequenceEqual(model), $"whole-disk mismatch after session {session}");
        }

        var check = Qcow2Checker.Check(path);
        Assert.True(check.IsClean, string.Join('\n', check.Messages));
        if (QemuImg.Path is not null)
        {
            QemuImg.Succeed("check", path);
        }
    }

    [Fact]
    public void DiscardFreesClusters()
    {
        string path = _temp.File("discard.qcow2");
        Qcow2Image.Create(path, 8 << 20);
        using (var disk = DiskImage.Open(path))
        {
            disk.Write(0, TestData.Pattern(4 << 20, 3));
            disk.Discard(0, 2 << 20);
            Assert.Equal(new byte[2 << 20], TestData.ReadAll(disk, 0, 2 << 20));
        }

        var check = Qcow2Checker.Check(path);
        Assert.True(check.IsClean, string.Join('\n', check.Messages));
        Assert.Equal(32UL, check.AllocatedClusters);
    }
}
