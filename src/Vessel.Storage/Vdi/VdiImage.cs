using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Vdi;

/// <summary>
/// A VirtualBox VDI image, dynamic or fixed (VirtualBox VDICore.h): a block map of 32-bit indices into the data area,
/// 0xffffffff for a block never written and 0xfffffffe for a discarded one (both read as zeroes).
/// </summary>
/// <remarks>
/// New blocks are appended in index order, written whole before the map points at them. Map entries and the
/// header's allocated-block count are written on <see cref="Flush"/> after an fsync of the data, so a crash leaves
/// at most an unreferenced block at the end of the file. Zeroing or discarding an allocated block punches a hole in
/// it instead of unmapping it, because QEMU's check requires the allocated count to match the map.
/// </remarks>
public sealed class VdiImage : IBlockBackend
{
    internal const uint Unallocated = 0xffffffff;
    internal const uint Discarded = 0xfffffffe;

    private readonly SafeFileHandle _file;

    /// <summary>The image's one file, for copying it while open (<see cref="SparseFileCopy"/>).</summary>
    internal SafeFileHandle Handle => _file;
    private VdiHeader _header;
    private readonly uint[] _map;
    private readonly int _blockSize;
    private readonly HashSet<uint> _dirtyMapSectors = [];
    private uint _nextIndex;
    private bool _headerDirty;
    private bool _disposed;

    private VdiImage(string path, SafeFileHandle file, VdiHeader header, uint[] map, uint nextIndex, bool readOnly)
    {
        Path = path;
        _file = file;
        _header = header;
        _map = map;
        _blockSize = (int)header.BlockSize;
        _nextIndex = nextIndex;
        IsReadOnly = readOnly;
    }

    public string Path { get; }

    public ulong Size => _header.DiskSize;

    public bool IsReadOnly { get; }

    public int BlockSize => _blockSize;

    public bool IsFixed => _header.Type == VdiHeader.TypeFixed;

    public static VdiImage Open(string path, bool readOnly)
    {
        var file = DiskImage.OpenHandle(path, readOnly);
        try
        {
            var header = ReadHeader(file, path);
            byte[] bytes = new byte[header.Blocks * 4];
            RandomAccess.Read(file, bytes, header.BlockMapOffset);
            uint[] map = new uint[header.Blocks];
            var used = new System.Collections.BitArray((int)header.Blocks);
            uint count = 0, next = 0;
            for (int i = 0; i < map.Length; i++)
            {
                uint entry = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
                map[i] = entry;
                if (entry >= Discarded)
                {
                    continue;
                }

                if (entry >= header.Blocks)
                {
                    throw new DiskImageException($"{path}: malformed VDI image: block {i} maps to data block {entry}, beyond the image's {header.Blocks} blocks");
                }

                if (used[(int)entry])
                {
                    throw new DiskImageException($"{path}: malformed VDI image: data block {entry} is used twice (block {i})");
                }

                used[(int)entry] = true;
                count++;
                next = Math.Max(next, entry + 1);
            }

            var image = new VdiImage(path, file, header, map, Math.Max(next, header.BlocksAllocated), readOnly);
            if (!readOnly && count != header.BlocksAllocated)
            {
                if (next != count)
                {
                    throw new DiskImageException($"{path}: VDI header says {header.BlocksAllocated} blocks are allocated but the map uses {count} with gaps; open it read-only");
                }

                // A crash between writing the map and the header (see Flush): the map is right, so is the count it implies.
                image._header = header with { BlocksAllocated = count };
                image._headerDirty = true;
                image.Flush();
            }

            return image;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    internal static VdiHeader ReadHeader(SafeFileHandle file, string path)
    {
        byte[] bytes = new byte[VdiHeader.Length];
        int n = RandomAccess.Read(file, bytes, 0);
        return VdiHeader.Parse(bytes.AsSpan(0, n), path, (ulong)RandomAccess.GetLength(file));
    }

    /// <summary>
    /// Creates an empty image (written under a temporary name and renamed): dynamic grows as blocks are written; fixed
    /// maps every block up front, with the data area allocated sparsely on the host.
    /// </summary>
    public static void Create(string path, ulong size, bool fixedSize = false)
    {
        ulong diskSize = (size + 511) / 512 * 512;
        ulong blocks = (diskSize + VdiHeader.DefaultBlockSize - 1) / VdiHeader.DefaultBlockSize;
        if (blocks > VdiHeader.MaxBlocks)
        {
            throw new DiskImageException($"{path}: size {size} is too large for a VDI image");
        }

        ulong mapBytes = ((blocks * 4) + 511) / 512 * 512;
        ulong dataOffset = (VdiHeader.Length + mapBytes + VdiHeader.DefaultBlockSize - 1) / VdiHeader.DefaultBlockSize * VdiHeader.DefaultBlockSize;
        var header = new VdiHeader
        {
            Type = fixedSize ? VdiHeader.TypeFixed : VdiHeader.TypeDynamic,
            BlockMapOffset = VdiHeader.Length,
            DataOffset = (uint)dataOffset,
            DiskSize = diskSize,
            BlockSize = VdiHeader.DefaultBlockSize,
            Blocks = (uint)blocks,
            BlocksAllocated = fixedSize ? (uint)blocks : 0,
            ImageUuid = Guid.NewGuid(),
            LastSnapshotUuid = Guid.NewGuid(),
        };
        byte[] map = new byte[mapBytes];
        for (uint i = 0; i < blocks; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(map.AsSpan((int)(i * 4)), fixedSize ? i : Unallocated);
        }

        string full = System.IO.Path.GetFullPath(path);
        string temp = System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(full) ?? ".",
            $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                RandomAccess.SetLength(file, (long)(dataOffset + (fixedSize ? blocks * VdiHeader.DefaultBlockSize : 0)));
                RandomAccess.Write(file, header.ToBytes(), 0);
                RandomAccess.Write(file, map, VdiHeader.Length);
                RandomAccess.FlushToDisk(file);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new DiskImageException($"{path}: cannot create image: {e.Message}", e);
        }
    }

    public void Read(ulong offset, Span<byte> buffer)
    {
        CheckRange(offset, (ulong)buffer.Length);
        while (buffer.Length > 0)
        {
            int inBlock = (int)(offset % (ulong)_blockSize);
            int n = Math.Min(buffer.Length, _blockSize - inBlock);
            uint entry = _map[offset / (ulong)_blockSize];
            if (entry >= Discarded)
            {
                buffer[..n].Clear();
            }
            else
            {
                ReadFile(DataPosition(entry) + (ulong)inBlock, buffer[..n]);
            }

            buffer = buffer[n..];
            offset += (ulong)n;
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        CheckRange(offset, (ulong)data.Length);
        while (data.Length > 0)
        {
            int inBlock = (int)(offset % (ulong)_blockSize);
            int n = Math.Min(data.Length, _blockSize - inBlock);
            ulong block = offset / (ulong)_blockSize;
            uint entry = _map[block];
            if (entry < Discarded)
            {
                RandomAccess.Write(_file, data[..n], (long)(DataPosition(entry) + (ulong)inBlock));
            }
            else
            {
                Allocate(block, inBlock, data[..n]);
            }

            data = data[n..];
            offset += (ulong)n;
        }
    }

    public void Flush()
    {
        CheckOpen();
        if (IsReadOnly)
        {
            return;
        }

        RandomAccess.FlushToDisk(_file); // new blocks' data before the map points at them
        if (_dirtyMapSectors.Count == 0 && !_headerDirty)
        {
            return;
        }

        byte[] sector = new byte[512];
        foreach (uint s in _dirtyMapSectors)
        {
            int first = (int)(s * 128);
            int count = Math.Min(128, _map.Length - first);
            Array.Clear(sector);
            for (int i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(i * 4), _map[first + i]);
            }

            RandomAccess.Write(_file, sector.AsSpan(0, count * 4), _header.BlockMapOffset + (s * 512L));
        }

        _dirtyMapSectors.Clear();
        if (_headerDirty)
        {
            RandomAccess.Write(_file, _header.ToBytes().AsSpan(0x184, 4), 0x184); // blocks allocated
            _headerDirty = false;
        }

        RandomAccess.FlushToDisk(_file);
    }

    /// <summary>The guest no longer needs the range: the host space of whole allocated blocks is released (a hole).</summary>
    public void Discard(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        ForEachWholeBlock(offset, length, entry => NativeFileOperations.TryPunchHole(_file, (long)DataPosition(entry), _blockSize));
    }

    public void WriteZeroes(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        ulong end = offset + length;
        while (offset < end)
        {
            ulong block = offset / (ulong)_blockSize;
            ulong blockEnd = Math.Min((block + 1) * (ulong)_blockSize, end);
            uint entry = _map[block];
            int n = (int)(blockEnd - offset);
            if (entry < Discarded &&
                !NativeFileOperations.TryPunchHole(_file, (long)(DataPosition(entry) + (offset % (ulong)_blockSize)), n))
            {
                RandomAccess.Write(_file, new byte[n], (long)(DataPosition(entry) + (offset % (ulong)_blockSize)));
            }

            offset = blockEnd; // unallocated and discarded blocks already read as zeroes
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (!IsReadOnly && !_file.IsClosed)
            {
                Flush();
            }
        }
        finally
        {
            _disposed = true;
            _file.Dispose();
        }
    }

    private void Allocate(ulong block, int inBlock, ReadOnlySpan<byte> data)
    {
        if (_nextIndex >= _header.Blocks)
        {
            throw new IOException($"{Path}: the VDI image has no free data block left (its map is inconsistent)");
        }

        byte[] whole = new byte[_blockSize];
        data.CopyTo(whole.AsSpan(inBlock));
        uint index = _nextIndex++;
        RandomAccess.Write(_file, whole, (long)DataPosition(index));
        _map[block] = index;
        _dirtyMapSectors.Add((uint)(block / 128));
        _header = _header with { BlocksAllocated = _header.BlocksAllocated + 1 };
        _headerDirty = true;
    }

    private void ForEachWholeBlock(ulong offset, ulong length, Action<uint> action)
    {
        ulong end = offset + length;
        ulong size = (ulong)_blockSize;
        for (ulong block = (offset + size - 1) / size; block * size < end; block++)
        {
            if (Math.Min((block + 1) * size, Size) <= end && _map[block] < Discarded)
            {
                action(_map[block]);
            }
        }
    }

    private ulong DataPosition(uint index) => _header.DataOffset + ((ulong)index * (ulong)_blockSize);

    private void ReadFile(ulong position, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            int n = RandomAccess.Read(_file, buffer, (long)position);
            if (n == 0)
            {
                buffer.Clear(); // a fixed image's data area may be short on the host
                return;
            }

            buffer = buffer[n..];
            position += (ulong)n;
        }
    }

    private void CheckOpen() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void CheckWritable()
    {
        CheckOpen();
        if (IsReadOnly)
        {
            throw new IOException($"{Path}: the image is open read-only");
        }
    }

    private void CheckRange(ulong offset, ulong length)
    {
        CheckOpen();
        if (offset > Size || length > Size - offset)
        {
            throw new IOException($"{Path}: access at {offset}+{length} is beyond the disk's end ({Size})");
        }
    }
}
