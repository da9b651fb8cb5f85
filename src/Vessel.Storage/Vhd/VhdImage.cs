using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Vhd;

/// <summary>
/// A VHD image (Microsoft "Virtual Hard Disk Image Format Specification"; QEMU calls the format "vpc"): fixed disks
/// (the disk's bytes, then the footer), dynamic disks (footer copy, dynamic disk header, Block Allocation Table, then
/// blocks that each start with a sector bitmap) and differencing disks (dynamic disks whose sectors with a clear
/// bitmap bit read from a parent image).
/// </summary>
/// <remarks>
/// A new block goes where the footer is, at the end of the file: the moved footer, the data and the bitmap are written
/// at once, but the BAT entries pointing to new blocks only on <see cref="Flush"/> (and close), after an fsync. So a
/// crash can leave unreferenced blocks, never a BAT entry pointing to garbage, and a lost trailing footer is
/// recovered from the copy at offset 0. Freed blocks are never reused, so a stale BAT entry can only see old data.
/// </remarks>
public sealed partial class VhdImage : IBlockBackend
{
    /// <summary>QEMU's limit (and the specification's): 2040 GiB.</summary>
    public const ulong MaxSize = 0xff00_0000UL * 512;

    private const uint Unallocated = 0xffff_ffff;
    /// <summary>Sector bitmaps kept in memory: 16 MiB worth (with 2 MiB blocks, the bitmaps of 64 GiB of disk).</summary>
    private const int CachedBitmapBytes = 16 << 20;
    private const int ZeroChunk = 1 << 20;

    private readonly SafeFileHandle _file;

    /// <summary>The image's one file, for copying it while open (<see cref="SparseFileCopy"/>).</summary>
    internal SafeFileHandle Handle => _file;
    private readonly VhdFooter _footer;
    private readonly byte[] _footerBytes;
    private readonly VhdDynamicHeader? _header;
    private readonly uint[] _bat = [];
    private IBlockBackend? _parent;
    private readonly Dictionary<uint, byte[]> _bitmaps = [];
    private readonly HashSet<uint> _dirtyBat = [];
    private readonly uint _blockSize;
    private readonly uint _bitmapSize;
    private ulong _nextFree;
    private bool _disposed;

    private VhdImage(string path, SafeFileHandle file, VhdFooter footer, VhdDynamicHeader? header, uint[] bat, ulong nextFree, bool readOnly)
    {
        Path = path;
        _file = file;
        _footer = footer;
        _footerBytes = footer.Encode();
        _header = header;
        _bat = bat;
        _nextFree = nextFree;
        IsReadOnly = readOnly;
        Size = footer.VirtualSize;
        if (header is not null)
        {
            _blockSize = header.BlockSize;
            _bitmapSize = header.BitmapSize;
        }
    }

    public string Path { get; }

    public ulong Size { get; }

    public bool IsReadOnly { get; }

    public VhdDiskType DiskType => (VhdDiskType)_footer.DiskType;

    /// <summary>Bytes per block of a dynamic or differencing disk; 0 for a fixed disk.</summary>
    public uint BlockSize => _blockSize;

    /// <summary>The footer's "Unique Id": what a differencing disk records as its parent's identity.</summary>
    public Guid UniqueId => _footer.UniqueId;

    /// <summary>The parent of a differencing disk (opened read-only), or null.</summary>
    public IBlockBackend? Parent => _parent;

    /// <summary>Where the parent of a differencing disk was found, or null.</summary>
    public string? ParentPath { get; private set; }

    /// <summary>The creator application recorded in the footer ("vssl" for images Vessel made, "qemu" for qemu-img's).</summary>
    public string CreatorApplication => _footer.CreatorApplication;

    /// <summary>Opens a VHD image and, for a differencing disk, its parent chain (read-only).</summary>
    public static VhdImage Open(string path, bool readOnly) => Open(path, readOnly, new BackingChain());

    internal static VhdImage Open(string path, bool readOnly, BackingChain chain)
    {
        var file = DiskImage.OpenHandle(path, readOnly);
        try
        {
            var image = Load(file, path, readOnly);
            if (image.DiskType == VhdDiskType.Differencing)
            {
                (image._parent, image.ParentPath) = OpenParent(image, chain);
            }

            return image;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The virtual size, block size and parent name of a VHD, without opening its parent (for <c>img info</c>).</summary>
    internal static (ulong VirtualSize, uint BlockSize, string? ParentName) ReadInfo(SafeFileHandle file, string path)
    {
        var image = Load(file, path, readOnly: true);
        string? parent = image._header is { } h && image.DiskType == VhdDiskType.Differencing ? h.ParentName : null;
        return (image.Size, image._blockSize, parent);
    }

    /// <summary>Reads and validates the footer, dynamic header and BAT against the file (hostile input is refused here).</summary>
    private static VhdImage Load(SafeFileHandle file, string path, bool readOnly)
    {
        ulong length = (ulong)RandomAccess.GetLength(file);
        if (length < VhdFooter.Length)
        {
            throw new DiskImageException($"{path}: malformed VHD image: the file ({length} bytes) is too small for a VHD footer");
        }

        byte[] raw = ReadExactly(file, length - VhdFooter.Length, VhdFooter.Length);
        bool footerAtEnd = true;
        string? problem = VhdFooter.Problem(raw);
        if (problem is not null)
        {
            // A dynamic disk keeps a copy of the footer at offset 0 for recovery when the last sector is damaged.
            byte[] copy = ReadExactly(file, 0, VhdFooter.Length);
            if (VhdFooter.Problem(copy) is not null ||
                VhdFooter.Decode(copy).DiskType is not ((uint)VhdDiskType.Dynamic or (uint)VhdDiskType.Differencing))
            {
                throw new DiskImageException($"{path}: malformed VHD image: {problem}");
            }

            raw = copy;
            footerAtEnd = false;
        }

        var footer = VhdFooter.Decode(raw);
        if (footer.Version >> 16 != VhdFooter.FormatVersion >> 16)
        {
            throw new DiskImageException($"{path}: unsupported VHD format version 0x{footer.Version:x8}");
        }

        if (footer.DiskType is not ((uint)VhdDiskType.Fixed or (uint)VhdDiskType.Dynamic or (uint)VhdDiskType.Differencing))
        {
            throw new DiskImageException($"{path}: unsupported VHD disk type {footer.DiskType} (fixed 2, dynamic 3 and differencing 4 are supported)");
        }

        ulong size = footer.VirtualSize;
        if (size > MaxSize)
        {
            throw new DiskImageException($"{path}: malformed VHD image: virtual size {size} exceeds the VHD maximum of 2040 GiB");
        }

        ulong dataEnd = footerAtEnd ? length - VhdFooter.Length : length;
        if (footer.DiskType == (uint)VhdDiskType.Fixed)
        {
            if (size > dataEnd)
            {
                throw new DiskImageException($"{path}: malformed VHD image: the fixed disk is {size} bytes but the file holds only {dataEnd} bytes of data (truncated?)");
            }

            return new VhdImage(path, file, footer, header: null, bat: [], nextFree: 0, readOnly);
        }

        var (header, bat, nextFree) = LoadDynamic(file, path, footer, size, length, dataEnd);
        var image = new VhdImage(path, file, footer, header, bat, nextFree, readOnly);
        if (!footerAtEnd && !readOnly)
        {
            // Restore the missing footer where it belongs before anything else is written.
            RandomAccess.Write(file, image._footerBytes, (long)nextFree);
            RandomAccess.FlushToDisk(file);
        }

        return image;
    }

    private static (VhdDynamicHeader Header, uint[] Bat, ulong NextFree) LoadDynamic(
        SafeFileHandle file, string path, VhdFooter footer, ulong size, ulong length, ulong dataEnd)
    {
        if (footer.DataOffset > length || length - footer.DataOffset < VhdDynamicHeader.Length)
        {
            throw new DiskImageException($"{path}: malformed VHD image: dynamic disk header at 0x{footer.DataOffset:x} lies past the end of the file");
        }

        var header = VhdDynamicHeader.Decode(ReadExactly(file, footer.DataOffset, VhdDynamicHeader.Length), path);
        ulong blockSize = header.BlockSize;
        ulong needed = (size + blockSize - 1) / blockSize;
        if (header.MaxTableEntryCount < needed)
        {
            throw new DiskImageException($"{path}: malformed VHD image: the BAT has {header.MaxTableEntryCount} entries, too few for the virtual size {size} (needs {needed})");
        }

        ulong batBytes = (ulong)header.MaxTableEntryCount * 4;
        if (header.TableOffset > length || length - header.TableOffset < batBytes)
        {
            throw new DiskImageException($"{path}: malformed VHD image: the BAT at 0x{header.TableOffset:x} ({header.MaxTableEntryCount} entries) lies past the end of the file");
        }

        // Metadata regions no block may overlap: the footer copy, the header, the BAT and the parent locators' data.
        var regions = new List<(ulong Start, ulong End, string What)>
        {
            (0, VhdFooter.Length, "the footer copy"),
            (footer.DataOffset, footer.DataOffset + VhdDynamicHeader.Length, "the dynamic disk header"),
            (header.TableOffset, RoundUp(header.TableOffset + batBytes), "the BAT"),
        };
        if (footer.DiskType == (uint)VhdDiskType.Differencing)
        {
            for (int i = 0; i < header.Locators.Length; i++)
            {
                var locator = header.Locators[i];
                if (locator.PlatformCode == VhdParentLocator.None || locator.DataLength == 0)
                {
                    continue;
                }

                if (locator.DataLength > VhdParentLocator.MaxDataLength)
                {
                    throw new DiskImageException($"{path}: malformed VHD image: parent locator {i} is {locator.DataLength} bytes long (at most {VhdParentLocator.MaxDataLength})");
                }

                if (locator.DataOffset > length || length - locator.DataOffset < locator.DataLength)
                {
                    throw new DiskImageException($"{path}: malformed VHD image: parent locator {i} data at 0x{locator.DataOffset:x} lies past the end of the file");
                }

                regions.Add((locator.DataOffset, locator.DataOffset + locator.DataLength, $"parent locator {i}"));
            }
        }

        uint[] bat = ReadBat(file, header.TableOffset, header.MaxTableEntryCount);
        ulong span = header.BitmapSize + blockSize;
        ulong nextFree = dataEnd;
        foreach (var region in regions)
        {
            nextFree = Math.Max(nextFree, region.End);
        }

        int allocated = 0;
        for (int i = 0; i < bat.Length; i++)
        {
            if (bat[i] == Unallocated)
            {
                continue;
            }

            allocated++;
            ulong start = (ulong)bat[i] * 512;
            if (start + span > dataEnd)
            {
                throw new DiskImageException($"{path}: malformed VHD image: BAT entry {i} points to a block at 0x{start:x} that lies past the end of the data (truncated image?)");
            }

            foreach (var region in regions)
            {
                if (start < region.End && region.Start < start + span)
                {
                    throw new DiskImageException($"{path}: malformed VHD image: BAT entry {i} (block at 0x{start:x}) overlaps {region.What}");
                }
            }
        }

        // Two entries sharing space would let writes through one change the other: sort the block starts to find any.
        uint[] starts = new uint[allocated];
        int n = 0;
        foreach (uint entry in bat)
        {
            if (entry != Unallocated)
            {
                starts[n++] = entry;
            }
        }

        Array.Sort(starts);
        for (int i = 1; i < starts.Length; i++)
        {
            if (((ulong)starts[i - 1] * 512) + span > (ulong)starts[i] * 512)
            {
                throw new DiskImageException($"{path}: malformed VHD image: BAT entries {Array.IndexOf(bat, starts[i - 1])} and {Array.LastIndexOf(bat, starts[i])} point to overlapping blocks");
            }
        }

        return (header, bat, RoundUp(nextFree));
    }

    /// <summary>Reads the big-endian BAT in 1 MiB pieces, so the only large allocation is the table itself.</summary>
    private static uint[] ReadBat(SafeFileHandle file, ulong offset, uint entries)
    {
        uint[] bat = new uint[entries];
        const int EntriesPerPiece = 1 << 18;
        for (int first = 0; first < bat.Length; first += EntriesPerPiece)
        {
            int count = Math.Min(EntriesPerPiece, bat.Length - first);
            byte[] raw = ReadExactly(file, offset + ((ulong)first * 4), count * 4);
            for (int i = 0; i < count; i++)
            {
                bat[first + i] = BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(i * 4));
            }
        }

        return bat;
    }

    public void Read(ulong offset, Span<byte> buffer)
    {
        CheckOpen();
        CheckRange(offset, (ulong)buffer.Length);
        if (_header is null)
        {
            ReadHost(offset, buffer);
            return;
        }

        while (buffer.Length > 0)
        {
            int n = (int)Math.Min((ulong)buffer.Length, _blockSize - (offset % _blockSize));
            ReadWithinBlock(offset, buffer[..n]);
            buffer = buffer[n..];
            offset += (ulong)n;
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        CheckRange(offset, (ulong)data.Length);
        if (_header is null)
        {
            RandomAccess.Write(_file, data, (long)offset);
            return;
        }

        Span<byte> sector = stackalloc byte[512];
        while (data.Length > 0)
        {
            int inSector = (int)(offset % 512);
            int n;
            if (inSector != 0 || data.Length < 512)
            {
                // A partial sector: its other bytes keep what the disk shows now (zeroes or the parent's data).
                n = Math.Min(data.Length, 512 - inSector);
                ulong sectorStart = offset - (ulong)inSector;
                Read(sectorStart, sector);
                data[..n].CopyTo(sector[inSector..]);
                WriteSectorsWithinBlock(sectorStart, sector);
            }
            else
            {
                n = (int)Math.Min((ulong)(data.Length & ~511), _blockSize - (offset % _blockSize));
                WriteSectorsWithinBlock(offset, data[..n]);
            }

            data = data[n..];
            offset += (ulong)n;
        }
    }

    /// <summary>Makes the blocks durable, then the BAT entries that point to them.</summary>
    public void Flush()
    {
        CheckOpen();
        if (IsReadOnly)
        {
            return;
        }

        RandomAccess.FlushToDisk(_file);
        if (_dirtyBat.Count > 0)
        {
            Span<byte> raw = stackalloc byte[4];
            foreach (uint block in _dirtyBat)
            {
                BinaryPrimitives.WriteUInt32BigEndian(raw, _bat[block]);
                RandomAccess.Write(_file, raw, (long)(_header!.TableOffset + ((ulong)block * 4)));
            }

            _dirtyBat.Clear();
            RandomAccess.FlushToDisk(_file);
        }
    }

    /// <summary>
    /// Fixed disks punch a hole; dynamic disks unmap the whole blocks in the range (they then read as zeroes).
    /// A differencing disk keeps its data: unmapping would let the parent show through, which no caller expects.
    /// </summary>
    public void Discard(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        if (_header is null)
        {
            NativeFileOperations.TryPunchHole(_file, (long)offset, (long)length);
        }
        else if (DiskType == VhdDiskType.Dynamic)
        {
            UnmapWholeBlocks(offset, length);
        }
    }

    public void WriteZeroes(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        if (_header is null)
        {
            if (!NativeFileOperations.TryPunchHole(_file, (long)offset, (long)length))
            {
                WriteZeroBytes(offset, length);
            }

            return;
        }

        if (DiskType == VhdDiskType.Differencing)
        {
            WriteZeroBytes(offset, length); // zeroes must hide the parent's data
            return;
        }

        ulong end = offset + length;
        UnmapWholeBlocks(offset, length);
        while (offset < end)
        {
            ulong blockEnd = Math.Min(end, ((offset / _blockSize) + 1) * _blockSize);
            if (_bat[offset / _blockSize] != Unallocated)
            {
                WriteZeroBytes(offset, blockEnd - offset); // unallocated blocks already read as zeroes
            }

            offset = blockEnd;
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
                Flush(); // like the other formats: closing a writable image makes it durable
            }
        }
        finally
        {
            _disposed = true;
            _file.Dispose();
            _parent?.Dispose();
        }
    }

    private void ReadWithinBlock(ulong offset, Span<byte> destination)
    {
        uint block = (uint)(offset / _blockSize);
        uint entry = _bat[block];
        if (entry == Unallocated)
        {
            ReadParent(offset, destination);
            return;
        }

        byte[] bitmap = LoadBitmap(block, entry);
        ulong dataStart = ((ulong)entry * 512) + _bitmapSize;
        while (destination.Length > 0)
        {
            // A run of sectors with the same bitmap bit: present in this file, or zeroes / the parent's data.
            ulong inBlock = offset % _blockSize;
            uint sector = (uint)(inBlock / 512);
            bool present = IsSet(bitmap, sector);
            uint last = sector;
            ulong wantedEnd = inBlock + (ulong)destination.Length;
            while (((ulong)(last + 1) * 512) < wantedEnd && IsSet(bitmap, last + 1) == present)
            {
                last++;
            }

            int n = (int)Math.Min((ulong)destination.Length, ((ulong)(last + 1) * 512) - inBlock);
            if (present)
            {
                ReadHost(dataStart + inBlock, destination[..n]);
            }
            else
            {
                ReadParent(offset, destination[..n]);
            }

            destination = destination[n..];
            offset += (ulong)n;
        }
    }

    /// <summary>What a sector this file does not hold reads as: the parent's data, or zeroes.</summary>
    private void ReadParent(ulong offset, Span<byte> destination)
    {
        if (_parent is null || offset >= _parent.Size)
        {
            destination.Clear();
            return;
        }

        int available = (int)Math.Min((ulong)destination.Length, _parent.Size - offset);
        _parent.Read(offset, destination[..available]);
        destination[available..].Clear();
    }

    /// <summary>Writes whole sectors that lie in one block, allocating the block if needed, and sets their bitmap bits.</summary>
    private void WriteSectorsWithinBlock(ulong offset, ReadOnlySpan<byte> data)
    {
        uint block = (uint)(offset / _blockSize);
        ulong inBlock = offset % _blockSize;
        uint first = (uint)(inBlock / 512);
        uint count = (uint)(data.Length / 512);
        if (_bat[block] == Unallocated)
        {
            AllocateBlock(block, inBlock, data);
            return;
        }

        uint entry = _bat[block];
        RandomAccess.Write(_file, data, (long)(((ulong)entry * 512) + _bitmapSize + inBlock));
        byte[] bitmap = LoadBitmap(block, entry);
        if (SetBits(bitmap, first, count) is var (from, to))
        {
            // The data first, then the bits that make it visible.
            RandomAccess.Write(_file, bitmap.AsSpan(from, to - from), (long)(((ulong)entry * 512) + (ulong)from));
        }
    }

    /// <summary>
    /// Appends a block where the footer is: the moved footer, the data and the bitmap now, the BAT entry at the next
    /// <see cref="Flush"/>. Sectors not written keep a clear bit (zeroes, or the parent's data in a differencing disk).
    /// </summary>
    private void AllocateBlock(uint block, ulong inBlock, ReadOnlySpan<byte> data)
    {
        ulong start = _nextFree;
        ulong end = start + _bitmapSize + _blockSize;
        if (start / 512 >= Unallocated || end > long.MaxValue)
        {
            throw new IOException($"{Path}: the VHD file is full (block offsets are 32-bit sector numbers)");
        }

        byte[] bitmap = new byte[_bitmapSize];
        SetBits(bitmap, (uint)(inBlock / 512), (uint)(data.Length / 512));
        // The new footer first, so the file ends with a footer at every moment; the bitmap then overwrites the old one.
        RandomAccess.Write(_file, _footerBytes, (long)end);
        RandomAccess.Write(_file, data, (long)(start + _bitmapSize + inBlock));
        RandomAccess.Write(_file, bitmap, (long)start);
        _nextFree = end;
        SetBatEntry(block, (uint)(start / 512));
        RememberBitmap(block, bitmap);
    }

    private void UnmapWholeBlocks(ulong offset, ulong length)
    {
        ulong end = offset + length;
        ulong first = (offset + _blockSize - 1) / _blockSize;
        for (ulong block = first; block * _blockSize < end; block++)
        {
            ulong blockEnd = Math.Min(Size, (block + 1) * _blockSize);
            if (blockEnd > end)
            {
                break;
            }

            uint entry = _bat[block];
            if (entry == Unallocated)
            {
                continue;
            }

            // The block's space is never reused, so until Flush writes the entry the old one still finds the
            // discarded data (or zeroes where the hole was punched); the host gets the space back.
            SetBatEntry((uint)block, Unallocated);
            _bitmaps.Remove((uint)block);
            NativeFileOperations.TryPunchHole(_file, (long)entry * 512, _bitmapSize + _blockSize);
        }
    }

    private void WriteZeroBytes(ulong offset, ulong length)
    {
        byte[] zeroes = new byte[(int)Math.Min(length, ZeroChunk)];
        while (length > 0)
        {
            int n = (int)Math.Min(length, (ulong)zeroes.Length);
            Write(offset, zeroes.AsSpan(0, n));
            offset += (ulong)n;
            length -= (ulong)n;
        }
    }

    /// <summary>Changes a BAT entry in memory; <see cref="Flush"/> writes it once what it points to is durable.</summary>
    private void SetBatEntry(uint block, uint value)
    {
        _bat[block] = value;
        _dirtyBat.Add(block);
    }

    private byte[] LoadBitmap(uint block, uint entry)
    {
        if (_bitmaps.TryGetValue(block, out byte[]? cached))
        {
            return cached;
        }

        byte[] bitmap = ReadExactly(_file, (ulong)entry * 512, (int)_bitmapSize);
        RememberBitmap(block, bitmap);
        return bitmap;
    }

    private void RememberBitmap(uint block, byte[] bitmap)
    {
        if (_bitmaps.Count >= Math.Max(16, CachedBitmapBytes / (int)_bitmapSize))
        {
            _bitmaps.Clear(); // bitmaps are written through, so dropping them loses nothing
        }

        _bitmaps[block] = bitmap;
    }

    /// <summary>The sector bitmap is big-endian: sector 0 is the most significant bit of the first byte.</summary>
    private static bool IsSet(byte[] bitmap, uint sector) => (bitmap[sector >> 3] & (0x80 >> (int)(sector & 7))) != 0;

    /// <summary>Sets <paramref name="count"/> bits from <paramref name="first"/>; returns the changed byte range, or null.</summary>
    private static (int From, int To)? SetBits(byte[] bitmap, uint first, uint count)
    {
        int from = int.MaxValue, to = -1;
        for (uint sector = first; sector < first + count; sector++)
        {
            int index = (int)(sector >> 3);
            byte mask = (byte)(0x80 >> (int)(sector & 7));
            if ((bitmap[index] & mask) == 0)
            {
                bitmap[index] |= mask;
                from = Math.Min(from, index);
                to = index + 1;
            }
        }

        return to < 0 ? null : (from, to);
    }

    private void ReadHost(ulong hostOffset, Span<byte> destination)
    {
        long position = (long)hostOffset;
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(_file, destination, position);
            if (n == 0)
            {
                destination.Clear(); // a hole at the end of a sparse file
                return;
            }

            destination = destination[n..];
            position += n;
        }
    }

    private static byte[] ReadExactly(SafeFileHandle file, ulong offset, int length)
    {
        byte[] buffer = new byte[length];
        int done = 0;
        while (done < length)
        {
            int n = RandomAccess.Read(file, buffer.AsSpan(done), (long)offset + done);
            if (n == 0)
            {
                break; // callers checked the file length; a file shrinking meanwhile reads as zeroes
            }

            done += n;
        }

        return buffer;
    }

    private static ulong RoundUp(ulong value) => (value + 511) & ~511UL;

    private void CheckRange(ulong offset, ulong length)
    {
        if (offset > Size || length > Size - offset)
        {
            throw new IOException($"{Path}: access at {offset}+{length} is beyond the disk's end ({Size})");
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
}
