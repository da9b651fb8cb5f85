using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Vmdk;

/// <summary>
/// A hosted sparse extent (VMDK spec 1.1, "Hosted Sparse Extents"): a grain directory of grain-table sectors, grain
/// tables of grain sectors (0 = unallocated, 1 = zeroed grain), optional redundant copies of both, and grains;
/// in streamOptimized extents each grain is zlib-compressed behind a 12-byte grain marker.
/// </summary>
/// <remarks>
/// Writes allocate grains at the end of the file, grain-aligned, and write the whole grain before any table points
/// at it. Grain-table and directory changes are cached and written on <see cref="Flush"/>: fsync, tables (primary
/// and redundant), fsync, directories, fsync, so a crash can leak grains but never leave a table pointing at garbage.
/// </remarks>
internal sealed class VmdkSparseExtent : VmdkExtent
{

    /// <summary>Grain table entries are 32-bit sector numbers, so an extent file cannot pass 2 TiB.</summary>
    private const ulong MaxFileSectors = 1UL << 32;

    private const uint ZeroedGrain = 1;
    private const int GrainMarkerLength = 12;

    private readonly SafeFileHandle _file;
    private readonly VmdkSparseHeader _header;
    private readonly int _grainBytes;
    private readonly uint _tableEntries;
    private readonly uint[] _directory;
    private uint[]? _redundantDirectory;
    private readonly Dictionary<int, uint[]> _tables = [];
    private readonly HashSet<int> _dirtyTables = [];
    private bool _directoryDirty;
    private ulong _nextFreeSector;
    private ulong _inflatedGrain = ulong.MaxValue;
    private byte[]? _inflated;

    private VmdkSparseExtent(string path, SafeFileHandle file, VmdkSparseHeader header, bool readOnly)
        : base(path, header.Capacity, readOnly)
    {
        _file = file;
        _header = header;
        _grainBytes = (int)(header.GrainSize * 512);
        _tableEntries = header.GrainTableEntries;
        ulong fileSectors = (ulong)RandomAccess.GetLength(file) / 512;
        _directory = ReadDirectory(header.GrainDirectoryOffset, "grain directory", fileSectors);
        if (header.HasRedundantGrainDirectory && !header.IsCompressed)
        {
            _redundantDirectory = ReadDirectory(header.RedundantGrainDirectoryOffset, "redundant grain directory", fileSectors);
            for (int i = 0; i < _directory.Length; i++)
            {
                if ((_directory[i] == 0) != (_redundantDirectory[i] == 0))
                {
                    if (!readOnly)
                    {
                        throw new DiskImageException($"{path}: VMDK grain directory and redundant grain directory disagree at entry {i}; open it read-only");
                    }

                    _redundantDirectory = null; // only needed for writing
                    break;
                }
            }
        }

        ulong fileLength = (ulong)RandomAccess.GetLength(file);
        _nextFreeSector = (fileLength + 511) / 512;
    }

    public VmdkSparseHeader Header => _header;

    /// <summary>Grain tables held in memory before dirty ones are written back and the cache emptied (8 MiB at 512 entries).</summary>
    internal int MaxCachedTables { get; set; } = 4096;

    public int GrainSize => _grainBytes;

    /// <summary>The parent disk unallocated grains read from (a delta link's parentFileNameHint), or null.</summary>
    public IBlockBackend? Parent { get; set; }

    /// <summary>Byte offset of this extent within the whole disk, where <see cref="Parent"/> is read.</summary>
    public ulong DiskOffset { get; set; }

    /// <summary>
    /// Opens the sparse extent in <paramref name="file"/>; a header whose grain directory is "at end" is replaced by
    /// the footer (spec "The Stream-Optimized Compressed Sparse Extent"). Compressed extents open only read-only.
    /// </summary>
    public static VmdkSparseExtent Open(string path, SafeFileHandle file, bool readOnly)
    {
        ulong fileLength = (ulong)RandomAccess.GetLength(file);
        byte[] first = new byte[VmdkSparseHeader.Length];
        int n = RandomAccess.Read(file, first, 0);
        var header = VmdkSparseHeader.Parse(first.AsSpan(0, n), path);
        if (header.GrainDirectoryOffset == VmdkSparseHeader.GrainDirectoryAtEnd)
        {
            header = ReadFooter(file, path, fileLength);
        }

        header.Validate(path, fileLength);
        if (!readOnly && header.IsCompressed)
        {
            throw new DiskImageException($"{path}: streamOptimized (compressed) VMDK images can only be opened read-only; convert to monolithicSparse to write");
        }

        if (!readOnly && header.Version == 3)
        {
            // Version 3 adds changed-block tracking that Vessel would not keep up to date (QEMU: the same rule).
            throw new DiskImageException($"{path}: VMDK version 3 sparse extents can only be opened read-only");
        }

        return new VmdkSparseExtent(path, file, header, readOnly);
    }

    /// <summary>
    /// Checks every grain table entry (VMDK spec 1.1, "Grain Table and Grain"): each allocated grain lies inside the
    /// file, after the metadata (<c>overHead</c>), outside every grain table, and belongs to one guest grain only.
    /// Reads the tables from the file, bypassing the cache, so it checks what is on disk.
    /// </summary>
    internal void Check(ImageCheckTally tally)
    {
        ulong fileSectors = ((ulong)RandomAccess.GetLength(_file) + 511) / 512;
        ulong tableSectors = _header.GrainTableSectors;
        ulong[] tables = [.. _directory.Where(d => d != 0).Select(d => (ulong)d).Order()];
        var owners = new Dictionary<uint, ulong>();
        byte[] bytes = new byte[_tableEntries * 4];
        tally.Total += (Length + (ulong)_grainBytes - 1) / (ulong)_grainBytes;
        for (int index = 0; index < _directory.Length; index++)
        {
            if (_directory[index] == 0)
            {
                continue;
            }

            ReadFile((ulong)_directory[index] * 512, bytes);
            for (int i = 0; i < _tableEntries; i++)
            {
                uint entry = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
                ulong grain = ((ulong)index * _tableEntries) + (ulong)i;
                if (entry <= ZeroedGrain)
                {
                    continue;
                }

                tally.Allocated++;
                if (_header.IsCompressed)
                {
                    tally.Compressed++;
                }

                int t = Array.BinarySearch(tables, (ulong)entry);
                bool insideTable = t >= 0 || (~t > 0 && entry < tables[~t - 1] + tableSectors);
                if (entry >= fileSectors)
                {
                    tally.Corruption($"ERROR: {Path}: grain {grain} points to sector {entry}, past the end of the file ({fileSectors} sectors)");
                }
                else if (entry < _header.Overhead || insideTable)
                {
                    tally.Corruption($"ERROR: {Path}: grain {grain} points to sector {entry}, inside the image's metadata");
                }
                else if (!owners.TryAdd(entry, grain))
                {
                    tally.Corruption($"ERROR: {Path}: grain {grain} points to sector {entry}, which grain {owners[entry]} also uses");
                }
            }
        }
    }

    /// <summary>The descriptor embedded in a monolithicSparse file, or null when the header names none.</summary>
    public VmdkDescriptor? ReadEmbeddedDescriptor()
    {
        if (_header.DescriptorOffset == 0 || _header.DescriptorSize == 0)
        {
            return null;
        }

        ulong fileLength = (ulong)RandomAccess.GetLength(_file);
        ulong sectors = Math.Min(_header.DescriptorSize, VmdkDescriptor.MaxLength / 512);
        if (_header.DescriptorOffset > fileLength / 512)
        {
            throw new DiskImageException($"{Path}: VMDK embedded descriptor at sector {_header.DescriptorOffset} lies outside the file");
        }

        byte[] text = new byte[(int)Math.Min(sectors * 512, fileLength - (_header.DescriptorOffset * 512))];
        int n = RandomAccess.Read(_file, text, (long)(_header.DescriptorOffset * 512));
        return VmdkDescriptor.Parse(text.AsSpan(0, n), Path, requireExtents: false);
    }

    public override void Read(ulong offset, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            ulong grain = offset / (ulong)_grainBytes;
            int inGrain = (int)(offset % (ulong)_grainBytes);
            int n = Math.Min(buffer.Length, _grainBytes - inGrain);
            var piece = buffer[..n];
            uint entry = Entry(grain);
            if (entry == 0)
            {
                ReadParent(offset, piece);
            }
            else if (entry == ZeroedGrain)
            {
                piece.Clear();
            }
            else if (_header.IsCompressed)
            {
                Inflate(grain, entry).AsSpan(inGrain, n).CopyTo(piece);
            }
            else
            {
                ReadFile(((ulong)entry * 512) + (ulong)inGrain, piece);
            }

            buffer = buffer[n..];
            offset += (ulong)n;
        }
    }

    public override void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        while (data.Length > 0)
        {
            ulong grain = offset / (ulong)_grainBytes;
            int inGrain = (int)(offset % (ulong)_grainBytes);
            int n = Math.Min(data.Length, _grainBytes - inGrain);
            WriteWithinGrain(grain, inGrain, data[..n]);
            data = data[n..];
            offset += (ulong)n;
        }
    }

    /// <summary>
    /// Whole grains become unallocated (no parent) or zeroed grains (parent, and the header allows them); the rest
    /// is written as zero bytes. Space of unmapped grains is not reclaimed (the format has no free list).
    /// </summary>
    public override void WriteZeroes(ulong offset, ulong length)
    {
        CheckWritable();
        ulong end = offset + length;
        while (offset < end)
        {
            ulong grain = offset / (ulong)_grainBytes;
            ulong grainStart = grain * (ulong)_grainBytes;
            ulong grainEnd = Math.Min(grainStart + (ulong)_grainBytes, Length);
            ulong pieceEnd = Math.Min(end, grainEnd);
            uint entry = Entry(grain);
            bool readsZero = entry == ZeroedGrain || (entry == 0 && Parent is null);
            if (readsZero)
            {
                // Nothing to do.
            }
            else if (offset == grainStart && pieceEnd == grainEnd && TryUnmap(grain))
            {
                // Unmapped.
            }
            else
            {
                WriteZeroBytes(offset, pieceEnd - offset);
            }

            offset = pieceEnd;
        }
    }

    public override void Discard(ulong offset, ulong length)
    {
        CheckWritable();
        ulong end = offset + length;
        ulong grainBytes = (ulong)_grainBytes;
        for (ulong grain = (offset + grainBytes - 1) / grainBytes; grain * grainBytes < end; grain++)
        {
            if (Math.Min((grain + 1) * grainBytes, Length) <= end)
            {
                TryUnmap(grain);
            }
        }
    }

    public override void Flush()
    {
        if (IsReadOnly)
        {
            return;
        }

        if (_dirtyTables.Count == 0 && !_directoryDirty)
        {
            RandomAccess.FlushToDisk(_file);
            return;
        }

        RandomAccess.FlushToDisk(_file); // grains and zero-filled new tables first
        foreach (int index in _dirtyTables)
        {
            byte[] table = Serialize(_tables[index]);
            RandomAccess.Write(_file, table, (long)_directory[index] * 512);
            if (_redundantDirectory is not null)
            {
                RandomAccess.Write(_file, table, (long)_redundantDirectory[index] * 512);
            }
        }

        _dirtyTables.Clear();
        RandomAccess.FlushToDisk(_file);
        if (_directoryDirty)
        {
            RandomAccess.Write(_file, Serialize(_directory), (long)_header.GrainDirectoryOffset * 512);
            if (_redundantDirectory is not null)
            {
                RandomAccess.Write(_file, Serialize(_redundantDirectory), (long)_header.RedundantGrainDirectoryOffset * 512);
            }

            _directoryDirty = false;
            RandomAccess.FlushToDisk(_file);
        }
    }

    private static VmdkSparseHeader ReadFooter(SafeFileHandle file, string path, ulong fileLength)
    {
        // Spec: the file ends with a footer marker, the footer (a header copy with the real grain directory
        // offset) and an end-of-stream marker, one sector each.
        if (fileLength < 3 * 512 + VmdkSparseHeader.Length)
        {
            throw new DiskImageException($"{path}: VMDK header says the grain directory is at the end, but the file is too short for a footer");
        }

        byte[] tail = new byte[3 * 512];
        RandomAccess.Read(file, tail, (long)fileLength - tail.Length);
        var marker = tail.AsSpan(0, 512);
        var end = tail.AsSpan(1024, 512);
        if (BinaryPrimitives.ReadUInt32LittleEndian(marker[8..]) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(marker[12..]) != VmdkStreamWriter.MarkerFooter ||
            !VmdkSparseHeader.HasMagic(tail.AsSpan(512)) || end[..16].ContainsAnyExcept((byte)0))
        {
            throw new DiskImageException($"{path}: VMDK footer is missing or damaged (the stream may be truncated)");
        }

        var footer = VmdkSparseHeader.Parse(tail.AsSpan(512, 512), path);
        if (footer.GrainDirectoryOffset == VmdkSparseHeader.GrainDirectoryAtEnd)
        {
            throw new DiskImageException($"{path}: VMDK footer does not say where the grain directory is");
        }

        return footer;
    }

    private uint[] ReadDirectory(ulong sector, string name, ulong fileSectors)
    {
        int count = (int)_header.GrainDirectoryEntries;
        uint[] directory = new uint[count];
        if (count == 0)
        {
            return directory;
        }

        byte[] bytes = new byte[count * 4];
        ReadFile(sector * 512, bytes);
        for (int i = 0; i < count; i++)
        {
            uint entry = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
            if (entry != 0 && (entry >= fileSectors || _header.GrainTableSectors > fileSectors - entry))
            {
                throw new DiskImageException($"{Path}: VMDK {name} entry {i} points to a grain table at sector {entry}, past the end of the file ({fileSectors} sectors)");
            }

            directory[i] = entry;
        }

        return directory;
    }

    /// <summary>The grain's table entry; one pointing past the end of the file is an I/O error for this grain only.</summary>
    private uint Entry(ulong grain)
    {
        var table = Table((int)(grain / _tableEntries), allocate: false);
        return table is null ? 0 : CheckEntry(table[(int)(grain % _tableEntries)], grain);
    }

    private uint CheckEntry(uint entry, ulong grain)
    {
        if (entry > ZeroedGrain && entry >= _nextFreeSector)
        {
            throw new IOException($"{Path}: malformed VMDK: the grain table entry for grain {grain} points to sector {entry}, past the end of the file");
        }

        return entry;
    }

    /// <summary>The grain table for directory entry <paramref name="index"/>, loaded and checked; null when absent.</summary>
    private uint[]? Table(int index, bool allocate)
    {
        if (_tables.TryGetValue(index, out var cached))
        {
            return cached;
        }

        if (_tables.Count >= MaxCachedTables)
        {
            Flush();
            _tables.Clear();
        }

        uint sector = _directory[index];
        if (sector == 0)
        {
            if (!allocate)
            {
                return null;
            }

            return AllocateTable(index);
        }

        byte[] bytes = new byte[_tableEntries * 4];
        ReadFile((ulong)sector * 512, bytes);
        uint[] table = new uint[_tableEntries];
        for (int i = 0; i < table.Length; i++)
        {
            table[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
        }

        _tables[index] = table;
        return table;
    }

    /// <summary>A grain directory entry was empty: append a zeroed grain table (and its redundant copy).</summary>
    private uint[] AllocateTable(int index)
    {
        ulong sectors = _header.GrainTableSectors;
        uint primary = AllocateSectors(sectors, align: 1);
        uint? redundant = _redundantDirectory is null ? null : AllocateSectors(sectors, align: 1);
        RandomAccess.SetLength(_file, (long)_nextFreeSector * 512);
        _directory[index] = primary;
        if (redundant is { } r)
        {
            _redundantDirectory![index] = r;
        }

        _directoryDirty = true;
        uint[] table = new uint[_tableEntries];
        _tables[index] = table;
        _dirtyTables.Add(index);
        return table;
    }

    private uint AllocateSectors(ulong sectors, ulong align)
    {
        ulong start = (_nextFreeSector + align - 1) / align * align;
        if (start + sectors > MaxFileSectors)
        {
            throw new IOException($"{Path}: the VMDK extent is full (its file would pass 2 TiB, the limit of 32-bit grain table entries)");
        }

        _nextFreeSector = start + sectors;
        return (uint)start;
    }

    private void WriteWithinGrain(ulong grain, int inGrain, ReadOnlySpan<byte> data)
    {
        int tableIndex = (int)(grain / _tableEntries);
        var table = Table(tableIndex, allocate: true)!;
        int slot = (int)(grain % _tableEntries);
        uint entry = CheckEntry(table[slot], grain);
        if (entry > ZeroedGrain)
        {
            RandomAccess.Write(_file, data, ((long)entry * 512) + inGrain);
            return;
        }

        // New grain: its whole content (old data from the parent, or zeroes) goes to disk before the table entry.
        byte[] whole = new byte[_grainBytes];
        ulong grainOffset = grain * (ulong)_grainBytes;
        if (entry == 0 && Parent is not null && data.Length < _grainBytes)
        {
            ReadParent(grainOffset, whole.AsSpan(0, (int)Math.Min((ulong)_grainBytes, Length - grainOffset)));
        }

        data.CopyTo(whole.AsSpan(inGrain));
        uint sector = AllocateSectors(_header.GrainSize, _header.GrainSize);
        RandomAccess.Write(_file, whole, (long)sector * 512);
        if (_inflatedGrain == grain)
        {
            _inflatedGrain = ulong.MaxValue;
        }

        table[slot] = sector;
        _dirtyTables.Add(tableIndex);
    }

    private bool TryUnmap(ulong grain)
    {
        uint replacement;
        if (Parent is null)
        {
            replacement = 0;
        }
        else if ((_header.Flags & VmdkSparseHeader.FlagZeroedGrain) != 0)
        {
            replacement = ZeroedGrain;
        }
        else
        {
            return false; // an unallocated grain would show the parent's data
        }

        int tableIndex = (int)(grain / _tableEntries);
        var table = Table(tableIndex, allocate: replacement != 0);
        if (table is null)
        {
            return true;
        }

        int slot = (int)(grain % _tableEntries);
        if (table[slot] != replacement)
        {
            table[slot] = replacement;
            _dirtyTables.Add(tableIndex);
        }

        return true;
    }

    private void WriteZeroBytes(ulong offset, ulong length)
    {
        byte[] zeroes = new byte[(int)Math.Min(length, (ulong)_grainBytes)];
        while (length > 0)
        {
            int n = (int)Math.Min(length, (ulong)zeroes.Length);
            Write(offset, zeroes.AsSpan(0, n));
            offset += (ulong)n;
            length -= (ulong)n;
        }
    }

    private void ReadParent(ulong offset, Span<byte> buffer)
    {
        buffer.Clear();
        if (Parent is null)
        {
            return;
        }

        ulong diskOffset = DiskOffset + offset;
        if (diskOffset < Parent.Size)
        {
            int n = (int)Math.Min((ulong)buffer.Length, Parent.Size - diskOffset);
            Parent.Read(diskOffset, buffer[..n]);
        }
    }

    /// <summary>
    /// Decompresses one grain (spec "Stream-Optimized ... Grain Marker": LBA, compressed size, zlib data). The last
    /// grain of a disk may be short; anything that does not inflate to the expected length is an I/O error.
    /// </summary>
    private byte[] Inflate(ulong grain, uint entry)
    {
        if (_inflatedGrain == grain && _inflated is not null)
        {
            return _inflated;
        }

        ulong fileLength = (ulong)RandomAccess.GetLength(_file);
        ulong position = (ulong)entry * 512;
        int maxPacked = _grainBytes * 2;
        int packedLength;
        if (_header.HasMarkers)
        {
            Span<byte> marker = stackalloc byte[GrainMarkerLength];
            ReadFile(position, marker);
            ulong lba = BinaryPrimitives.ReadUInt64LittleEndian(marker);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(marker[8..]);
            if (lba != grain * _header.GrainSize)
            {
                throw new IOException($"{Path}: malformed VMDK: grain marker at sector {entry} is for sector {lba}, expected {grain * _header.GrainSize}");
            }

            if (size == 0 || size > (uint)maxPacked || position + GrainMarkerLength + size > fileLength)
            {
                throw new IOException($"{Path}: malformed VMDK: compressed grain at sector {entry} has an invalid size {size}");
            }

            position += GrainMarkerLength;
            packedLength = (int)size;
        }
        else
        {
            packedLength = (int)Math.Min((ulong)maxPacked, fileLength - Math.Min(fileLength, position));
        }

        byte[] packed = new byte[packedLength];
        ReadFile(position, packed);
        byte[] output = _inflated ?? new byte[_grainBytes];
        _inflatedGrain = ulong.MaxValue;
        int expected = (int)Math.Min((ulong)_grainBytes, Length - (grain * (ulong)_grainBytes));
        int total = 0;
        try
        {
            using var stream = new ZLibStream(new MemoryStream(packed), CompressionMode.Decompress);
            while (total < _grainBytes)
            {
                int n = stream.Read(output, total, _grainBytes - total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new IOException($"{Path}: malformed VMDK: compressed grain at sector {entry} does not inflate ({e.Message})", e);
        }

        if (total < expected)
        {
            throw new IOException($"{Path}: malformed VMDK: compressed grain at sector {entry} inflates to {total} bytes, expected {expected}");
        }

        output.AsSpan(total).Clear();
        _inflated = output;
        _inflatedGrain = grain;
        return output;
    }

    private void ReadFile(ulong position, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            int n = RandomAccess.Read(_file, buffer, (long)position);
            if (n == 0)
            {
                buffer.Clear(); // a grain at the very end of a file that was not extended to a whole grain
                return;
            }

            buffer = buffer[n..];
            position += (ulong)n;
        }
    }

    private static byte[] Serialize(uint[] entries)
    {
        byte[] bytes = new byte[((entries.Length * 4) + 511) / 512 * 512];
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), entries[i]);
        }

        return bytes;
    }
}
