namespace Vessel.Storage;

/// <summary>
/// A virtual disk's contents as a device sees them: a byte-addressed array of <see cref="Size"/> bytes, whatever
/// the file format underneath. Offsets and lengths given by virtio-blk are multiples of 512. Failures throw
/// <see cref="IOException"/> (the device reports an I/O error to the guest); a backend is used by one thread at a time.
/// </summary>
public interface IBlockBackend : IDisposable
{
    /// <summary>Virtual size in bytes.</summary>
    ulong Size { get; }

    bool IsReadOnly { get; }

    void Read(ulong offset, Span<byte> buffer);

    void Write(ulong offset, ReadOnlySpan<byte> data);

    /// <summary>Makes every completed write durable (fsync of data and metadata).</summary>
    void Flush();

    /// <summary>The guest no longer needs the range: free it where the format can; reads may return anything.</summary>
    void Discard(ulong offset, ulong length);

    /// <summary>The range must read as zeroes afterwards.</summary>
    void WriteZeroes(ulong offset, ulong length);
}
