using System.Diagnostics;

namespace Vessel.Storage.Tests;

/// <summary>Snapshot copies of raw disks keep their holes: same bytes, no more allocated blocks than the source.</summary>
public sealed class SparseFileCopyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vessel-sparse-").FullName;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CopyKeepsContentAndHoles(bool allowReflink)
    {
        string source = Path.Combine(_dir, "disk.raw"), copy = Path.Combine(_dir, "copy.raw");
        const long size = 64L << 20;
        using (var file = File.OpenHandle(source, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, size);
            RandomAccess.Write(file, Enumerable.Repeat((byte)0xA5, 4096).ToArray(), 0);
            RandomAccess.Write(file, Enumerable.Range(0, 1 << 20).Select(i => (byte)i).ToArray(), 10L << 20);
            RandomAccess.Write(file, Enumerable.Repeat((byte)0x5A, 4096).ToArray(), size - 4096);
        }

        var method = SparseFileCopy.Copy(source, copy, allowReflink: allowReflink);
        if (!allowReflink)
        {
            Assert.Equal(SparseFileCopy.Method.DataRanges, method);
        }

        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(copy));
        long sourceBlocks = AllocatedBytes(source), copyBlocks = AllocatedBytes(copy);
        Assert.True(copyBlocks <= sourceBlocks + (64 << 10), $"copy allocates {copyBlocks} bytes, source {sourceBlocks}");
        Assert.True(copyBlocks < size / 8, $"copy allocates {copyBlocks} of {size} bytes: the holes were filled");
        Assert.Empty(Directory.GetFiles(_dir, ".*tmp-*"));
    }

    [Fact]
    public void RefusesMissingSourceAndExistingDestination()
    {
        string source = Path.Combine(_dir, "a.raw"), other = Path.Combine(_dir, "b.raw");
        Assert.Contains("no such file", Assert.Throws<FileNotFoundException>(() => SparseFileCopy.Copy(source, other)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(source, [1, 2, 3]);
        File.WriteAllBytes(other, [9]);
        Assert.Contains("already exists", Assert.Throws<IOException>(() => SparseFileCopy.Copy(source, other)).Message, StringComparison.Ordinal);
        SparseFileCopy.Copy(source, other, overwrite: true);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(other));
    }

    /// <summary>Allocated size as stat(1) reports it (%b blocks of %B bytes).</summary>
    private static long AllocatedBytes(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%b %B", path]) { RedirectStandardOutput = true })!;
        string[] parts = stat.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        stat.WaitForExit();
        return long.Parse(parts[0]) * long.Parse(parts[1]);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
