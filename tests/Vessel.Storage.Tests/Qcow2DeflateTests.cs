using System.IO.Compression;
using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

public sealed class Qcow2DeflateTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void CompressedClustersInflateBack(int kind)
    {
        byte[] data = kind switch
        {
            0 => new byte[65536],
            1 => System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 10000).Select(i => $"row {i % 97} ")))[..65536],
            _ => TestData.Pattern(65536, 4),
        };
        byte[] packed = Qcow2Deflate.Compress(data);
        byte[] output = new byte[65536];
        Assert.True(Qcow2Deflate.TryDecompress(packed, output));
        Assert.Equal(data, output);
        if (kind < 2)
        {
            Assert.True(packed.Length < data.Length / 4);
        }

        using var stream = new DeflateStream(new MemoryStream(packed), CompressionMode.Decompress);
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        Assert.Equal(data, copy.ToArray());
    }
}
