using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage;

/// <summary>A raw image: the file's bytes are the disk's bytes. Reads past the end of a short (sparse) file return zeroes.</summary>
public sealed class RawImage : IBlockBackend
{
    private const int ZeroChunk = 1 << 20;
    private readonly SafeFileHandle _handle;

    private RawImage(SafeFileHandle handle, ulong size, bool readOnly, string path)
    {
        _handle = handle;
        Size = size;
        IsReadOnly = readOnly;
        Path = path;
    }

    public string Path { get; }

    internal SafeFileHandle Handle => _handle;

    public ulong Size { get; }

    public bool IsReadOnly { get; }

    public static RawImage Open(string path, bool readOnly)
    {
        var handle = DiskImage.OpenHandle(path, readOnly);
        return new RawImage(handle, (ulong)RandomAccess.GetLength(handle), readOnly, path);
    }

    /// <summary>Creates (or truncates) a sparse raw image of <paramref name="size"/> bytes.</summary>
    public static void Create(string path, ulong size)
    {
        if (size > long.MaxValue)
        {
            throw new DiskImageException($"{path}: size {size} is too large");
        }

        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        RandomAccess.SetLength(handle, (long)size);
        RandomAccess.FlushToDisk(handle);
    }

    public void Read(ulong offset, Span<byte> buffer)
    {
        CheckRange(offset, (ulong)buffer.Length);
        long position = (long)offset;
        while (buffer.Length > 0)
        {
            int n = RandomAccess.Read(_handle, buffer, position);
            if (n == 0)
            {
                buffer.Clear(); // past the end of a short file
                return;
            }

            buffer = buffer[n..];
            position += n;
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        CheckRange(offset, (ulong)data.Length);
        RandomAccess.Write(_handle, data, (long)offset);
    }

    public void Flush()
    {
        if (!IsReadOnly)
        {
            RandomAccess.FlushToDisk(_handle);
        }
    }

    public void Discard(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        NativeFileOperations.TryPunchHole(_handle, (long)offset, (long)length);
    }

    public void WriteZeroes(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        if (NativeFileOperations.TryPunchHole(_handle, (long)offset, (long)length))
        {
            return;
        }

        byte[] zeroes = new byte[(int)Math.Min(length, ZeroChunk)];
        while (length > 0)
        {
            int n = (int)Math.Min(length, (ulong)zeroes.Length);
            RandomAccess.Write(_handle, zeroes.AsSpan(0, n), (long)offset);
            offset += (ulong)n;
            length -= (ulong)n;
        }
    }

    public void Dispose() => _handle.Dispose();

    private void CheckRange(ulong offset, ulong length)
    {
        if (offset > Size || length > Size - offset)
        {
            throw new IOException($"{Path}: access at {offset}+{length} is beyond the disk's end ({Size})");
        }
    }

    private void CheckWritable()
    {
        if (IsReadOnly)
        {
            throw new IOException($"{Path}: the image is open read-only");
        }
    }
}
