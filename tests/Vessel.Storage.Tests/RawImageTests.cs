namespace Vessel.Storage.Tests;

public sealed class RawImageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void WritesReadBackAcrossReopen()
    {
        string path = _temp.File("disk.img");
        RawImage.Create(path, 1 << 20);
        byte[] data = TestData.Pattern(8192, 1);
        using (var disk = DiskImage.Open(path))
        {
            Assert.IsType<RawImage>(disk);
            Assert.Equal(1UL << 20, disk.Size);
            disk.Write(4096, data);
            disk.Flush();
        }

        using var again = DiskImage.Open(path, "raw", readOnly: true);
        Assert.True(again.IsReadOnly);
        Assert.Equal(data, TestData.ReadAll(again, 4096, 8192));
        Assert.Equal(new byte[4096], TestData.ReadAll(again, 0, 4096));
    }

    [Fact]
    public void WriteZeroesAndDiscardLeaveZeroes()
    {
        string path = _temp.File("disk.img");
        RawImage.Create(path, 1 << 20);
        using var disk = DiskImage.Open(path);
        disk.Write(0, TestData.Pattern(1 << 20, 2));
        disk.WriteZeroes(65536, 131072);
        Assert.Equal(new byte[131072], TestData.ReadAll(disk, 65536, 131072));
        Assert.NotEqual(new byte[512], TestData.ReadAll(disk, 65536 - 512, 512));
        disk.Discard(0, 4096); // contents unspecified afterwards; must not throw
    }

    [Fact]
    public void RefusesAccessPastTheEndAndWritesWhenReadOnly()
    {
        string path = _temp.File("disk.img");
        RawImage.Create(path, 4096);
        using (var disk = DiskImage.Open(path))
        {
            Assert.Throws<IOException>(() => disk.Read(4096 - 512, new byte[1024]));
            Assert.Throws<IOException>(() => disk.Write(ulong.MaxValue - 10, new byte[512]));
        }

        using var readOnly = DiskImage.Open(path, readOnly: true);
        Assert.Throws<IOException>(() => readOnly.Write(0, new byte[512]));
    }
}
