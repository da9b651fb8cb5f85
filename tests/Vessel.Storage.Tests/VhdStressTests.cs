using Vessel.Storage.Vhd;

namespace Vessel.Storage.Tests;

/// <summary>Long random operation sequences on dynamic and differencing VHDs, checked against an in-memory model.</summary>
public sealed class VhdStressTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false, 4096u, 1)]
    [InlineData(false, 64u << 10, 2)]
    [InlineData(true, 4096u, 3)]
    [InlineData(true, 64u << 10, 4)]
    public void RandomOperationsMatchTheModel(bool differencing, uint blockSize, int seed)
    {
        string path = _temp.File("disk.vhd");
        ulong size;
        byte[] model;
        if (differencing)
        {
            string parent = _temp.File("parent.vhd");
            size = VhdImage.Create(parent, 3 << 20, blockSize: blockSize);
            model = new byte[size];
            using (var disk = DiskImage.Open(parent))
            {
                // A parent with data in some blocks and holes in others.
                for (ulong at = 0; at < size; at += 3 * (ulong)blockSize)
                {
                    byte[] data = TestData.Pattern((int)Math.Min(blockSize, size - at), (int)at);
                    disk.Write(at, data);
                    data.CopyTo(model, (int)at);
                }
            }

            VhdImage.Create(path, 0, parent: "parent.vhd", blockSize: blockSize);
        }
        else
        {
            size = VhdImage.Create(path, 3 << 20, blockSize: blockSize);
            model = new byte[size];
        }

        var random = new Random(seed);
        var disk1 = DiskImage.Open(path);
        try
        {
            for (int i = 0; i < 1500; i++)
            {
                int length = random.Next(1, 3 * (int)blockSize);
                int at = random.Next(0, (int)size - length);
                switch (random.Next(10))
                {
                    case < 6:
                        byte[] data = TestData.Pattern(length, i);
                        disk1.Write((ulong)at, data);
                        data.CopyTo(model, at);
                        break;
                    case < 8:
                        int zeroAt = at & ~511, zeroLength = Math.Max(512, length & ~511);
                        disk1.WriteZeroes((ulong)zeroAt, (ulong)zeroLength);
                        Array.Clear(model, zeroAt, zeroLength);
                        break;
                    case 8:
                        // Discarded data may read as anything; what is outside the range must not change.
                        int discardAt = at & ~511, discardLength = Math.Max(512, length & ~511);
                        disk1.Discard((ulong)discardAt, (ulong)discardLength);
                        TestData.ReadAll(disk1, (ulong)discardAt, discardLength).CopyTo(model, discardAt);
                        break;
                    default:
                        Assert.Equal(model.AsSpan(at, length).ToArray(), TestData.ReadAll(disk1, (ulong)at, length));
                        break;
                }

                if (i % 300 == 299)
                {
                    disk1.Dispose();
                    disk1 = DiskImage.Open(path);
                    Assert.Equal(model, TestData.ReadAll(disk1, 0, (int)size));
                }
            }
        }
        finally
        {
            disk1.Dispose();
        }

        using var reopened = DiskImage.Open(path, readOnly: true);
        Assert.Equal(model, TestData.ReadAll(reopened, 0, (int)size));
    }
}
