namespace Vessel.Storage;

/// <summary>
/// Compares what two images show a guest (<c>vessel img compare</c>, like qemu-img compare): the common part byte
/// for byte, and the larger image's extra part against zeroes.
/// </summary>
public static class ImageComparer
{
    private const int ChunkBytes = 1 << 20;

    public static ImageCompareResult Compare(string first, string? firstFormat, string second, string? secondFormat)
    {
        using var a = DiskImage.Open(first, firstFormat, readOnly: true);
        using var b = DiskImage.Open(second, secondFormat, readOnly: true);
        return Compare(a, b);
    }

    public static ImageCompareResult Compare(IBlockBackend a, IBlockBackend b)
    {
        byte[] bufferA = new byte[ChunkBytes];
        byte[] bufferB = new byte[ChunkBytes];
        ulong common = Math.Min(a.Size, b.Size);
        bool sizeMismatch = a.Size != b.Size;
        for (ulong offset = 0; offset < common; offset += ChunkBytes)
        {
            int n = (int)Math.Min(ChunkBytes, common - offset);
            a.Read(offset, bufferA.AsSpan(0, n));
            b.Read(offset, bufferB.AsSpan(0, n));
            int index = bufferA.AsSpan(0, n).CommonPrefixLength(bufferB.AsSpan(0, n));
            if (index < n)
            {
                return new ImageCompareResult(false, (offset + (ulong)index) & ~511UL, sizeMismatch);
            }
        }

        var larger = a.Size > b.Size ? a : b;
        for (ulong offset = common; offset < larger.Size; offset += ChunkBytes)
        {
            int n = (int)Math.Min(ChunkBytes, larger.Size - offset);
            larger.Read(offset, bufferA.AsSpan(0, n));
            int index = bufferA.AsSpan(0, n).IndexOfAnyExcept((byte)0);
            if (index >= 0)
            {
                return new ImageCompareResult(false, (offset + (ulong)index) & ~511UL, sizeMismatch);
            }
        }

        return new ImageCompareResult(true, null, sizeMismatch);
    }
}
