using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Vmdk;

/// <summary>A FLAT (or VMFS) extent: the disk's bytes stored as-is in a file, starting at a sector offset.</summary>
internal sealed class VmdkFlatExtent : VmdkExtent
{
    private const int ZeroChunk = 1 << 20;
    private readonly SafeFileHandle _file;
    private readonly long _start;

    public VmdkFlatExtent(string path, SafeFileHandle file, ulong sectors, ulong startSector, bool readOnly)
        : base(path, sectors, readOnly)
    {
        _file = file;
        _start = (long)(startSector * 512);
    }

    public override void Read(ulong offset, Span<byte> buffer)
    {
        long position = _start + (long)offset;
        while (buffer.Length > 0)
        {
            int n = RandomAccess.Read(_file, buffer, position);
            if (n == 0)
            {
                buffer.Clear(); // past the end of a short (sparse) file
                return;
            }

            buffer = buffer[n..];
            position += n;
        }
    }

    public override void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        RandomAccess.Write(_file, data, _start + (long)offset);
    }

    public override void WriteZeroes(ulong offset, ulong length)
    {
        CheckWritable();
        if (NativeFileOperations.TryPunchHole(_file, _start + (long)offset, (long)length))
        {
            return;
        }

        byte[] zeroes = new byte[(int)Math.Min(length, ZeroChunk)];
        while (length > 0)
        {
            int n = (int)Math.Min(length, (ulong)zeroes.Length);
            RandomAccess.Write(_file, zeroes.AsSpan(0, n), _start + (long)offset);
            offset += (ulong)n;
            length -= (ulong)n;
        }
    }

    public override void Discard(ulong offset, ulong length)
    {
        CheckWritable();
        NativeFileOperations.TryPunchHole(_file, _start + (long)offset, (long)length);
    }

    public override void Flush()
    {
        if (!IsReadOnly)
        {
            RandomAccess.FlushToDisk(_file);
        }
    }
}
