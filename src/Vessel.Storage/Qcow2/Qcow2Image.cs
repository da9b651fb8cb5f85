using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Qcow2;

/// <summary>
/// A qcow2 image (QEMU docs/interop/qcow2.txt), versions 2 and 3: two-level cluster mapping, zero and compressed
/// clusters, backing files, allocation with 16-bit refcounts.
/// </summary>
/// <remarks>
/// Metadata (L2 tables, refcount blocks, L1 and refcount-table entries) is cached and written back on
/// <see cref="Flush"/> in crash-safe order: guest data and refcount increases first, fsync, then L2 tables, fsync,
/// then L1 entries, fsync. Clusters are freed only after the pointers to them are durable, and freed clusters are
/// never reused while open, so a crash can leak clusters but never corrupt the image.
/// </remarks>
public sealed partial class Qcow2Image : IBlockBackend
{
    /// <summary>Bits 9-55 of L1/L2/refcount-table entries hold a host offset ("Cluster mapping").</summary>
    internal const ulong OffsetMask = 0x00ff_ffff_ffff_fe00;
    internal const ulong CopiedFlag = 1UL << 63;
    internal const ulong CompressedFlag = 1UL << 62;
    internal const ulong ZeroFlag = 1UL;

    private const long CacheBytes = 32L << 20;

    private readonly SafeFileHandle _file;
    private Qcow2Header _header;
    private readonly IBlockBackend? _backing;
    private readonly int _clusterBits;
    private readonly int _clusterSize;
    private readonly int _l2Bits;
    private ulong[] _l1;
    private readonly HashSet<int> _dirtyL1 = [];
    private readonly Dictionary<ulong, ulong[]> _l2Cache = [];
    private readonly HashSet<ulong> _dirtyL2 = [];
    private readonly Dictionary<ulong, ushort[]> _refcountBlocks = [];
    private readonly HashSet<ulong> _dirtyRefcountBlocks = [];
    private readonly HashSet<int> _dirtyRefcountTable = [];
    private readonly List<ulong> _pendingFrees = [];
    private ulong[] _refcountTable;
    private ulong _refcountTableOffset;
    private ulong _refcountTableEntriesOnDisk;
    private ulong _nextFreeCluster;
    private ulong _compressedCursor;
    private ulong _compressedEnd;
    private ulong _decompressedEntry = ulong.MaxValue;
    private byte[]? _decompressed;
    private bool _disposed;

    private Qcow2Image(string path, SafeFileHandle file, Qcow2Header header, bool readOnly, IBlockBackend? backing)
    {
        Path = path;
        _file = file;
        _header = header;
        _backing = backing;
        IsReadOnly = readOnly;
        _clusterBits = header.ClusterBits;
        _clusterSize = header.ClusterSize;
        _l2Bits = _clusterBits - 3;
        MaxCachedTables = (int)Math.Max(8, CacheBytes / _clusterSize);
        _l1 = ReadTable(header.L1TableOffset, (int)header.L1Size);
        _refcountTableOffset = header.RefcountTableOffset;
        _refcountTable = ReadTable(header.RefcountTableOffset, (int)(header.RefcountTableClusters * (ulong)_clusterSize / 8));
        _refcountTableEntriesOnDisk = (ulong)_refcountTable.Length;
        _snapshots = Qcow2SnapshotTable.Read(file, header, path, out _snapshotTableLength);
        ulong fileLength = (ulong)RandomAccess.GetLength(file);
        _nextFreeCluster = (fileLength + (ulong)_clusterSize - 1) >> _clusterBits;
    }

    public string Path { get; }

    public ulong Size => _header.Size;

    public bool IsReadOnly { get; }

    public int ClusterSize => _clusterSize;

    public uint Version => _header.Version;

    /// <summary>The backing file name as stored in the header (relative to this image's folder unless absolute).</summary>
    public string? BackingFile => _header.BackingFile;

    public string? BackingFormat => _header.BackingFormat;

    public IBlockBackend? Backing => _backing;

    internal Qcow2Header Header => _header;

    /// <summary>L2 tables (and, separately, refcount blocks) kept in memory; 32 MiB worth by default.</summary>
    internal int MaxCachedTables { get; set; }

    internal SafeFileHandle Handle => _file;

    /// <summary>Opens a qcow2 image and its backing chain (backing files read-only).</summary>
    public static Qcow2Image Open(string path, bool readOnly) => Open(path, readOnly, new BackingChain());

    internal static Qcow2Image Open(string path, bool readOnly, BackingChain chain)
    {
        var file = DiskImage.OpenHandle(path, readOnly);
        IBlockBackend? backing = null;
        try
        {
            var header = ReadHeader(file, path);
            if (!readOnly)
            {
                if (header.IsCorrupt)
                {
                    throw new DiskImageException($"{path}: the image is marked corrupt; it can only be opened read-only (repair it with 'qemu-img check -r all')");
                }

                if (header.RefcountOrder != 4)
                {
                    throw new DiskImageException($"{path}: refcount_order {header.RefcountOrder} can only be opened read-only (Vessel writes 16-bit refcounts)");
                }
            }

            if (header.BackingFile is { } backingName)
            {
                string backingPath = ResolveBackingPath(path, backingName);
                try
                {
                    backing = DiskImage.Open(backingPath, header.BackingFormat, readOnly: true, chain);
                }
                catch (DiskImageException e)
                {
                    throw new DiskImageException($"{path}: cannot open backing file: {e.Message}", e);
                }
            }

            var image = new Qcow2Image(path, file, header, readOnly, backing);
            if (!readOnly && header.IsDirty)
            {
                image.RebuildRefcounts();
            }

            if (!readOnly && header.Version == 3 && header.AutoclearFeatures != 0)
            {
                // Autoclear features (e.g. persistent bitmaps) become stale once Vessel writes: clear them (spec).
                image.WriteHeaderField(88, 0UL);
                RandomAccess.FlushToDisk(file);
            }

            return image;
        }
        catch
        {
            backing?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A dirty image (spec: incompatible bit 0, left by a crash with lazy_refcounts) may have stale refcounts: recount
    /// every reference, fix the stored refcounts, make that durable, then clear the dirty bit.
    /// </summary>
    private void RebuildRefcounts()
    {
        var (references, problems) = Qcow2Checker.CountReferences(_file, _header, Path);
        if (problems.Count > 0)
        {
            throw new DiskImageException($"{Path}: the image is dirty and its metadata is damaged ({problems[0]}); repair it with 'qemu-img check -r all'");
        }

        for (ulong c = 0; c < (ulong)references.Length; c++)
        {
            int stored = StoredRefcount(c);
            if (stored != references[c])
            {
                ChangeRefcount(c, references[c] - stored);
            }
        }

        WriteBackMetadata(applyFrees: false);
        RandomAccess.FlushToDisk(_file);
        WriteHeaderField(72, _header.IncompatibleFeatures & ~Qcow2Header.IncompatibleDirty);
        RandomAccess.FlushToDisk(_file);
    }

    private int StoredRefcount(ulong cluster)
    {
        ulong perBlock = (ulong)_clusterSize / 2;
        ulong blockIndex = cluster / perBlock;
        if (blockIndex >= (ulong)_refcountTable.Length || (_refcountTable[blockIndex] & ~511UL) == 0)
        {
            return 0;
        }

        return LoadRefcountBlock(_refcountTable[blockIndex] & ~511UL)[(int)(cluster % perBlock)];
    }

    internal static Qcow2Header ReadHeader(SafeFileHandle file, string path)
    {
        ulong fileLength = (ulong)RandomAccess.GetLength(file);
        Span<byte> fixedPart = stackalloc byte[Qcow2Header.Version3Length];
        int n = RandomAccess.Read(file, fixedPart, 0);
        if (n < 24)
        {
            throw new DiskImageException($"{path}: malformed qcow2 image: truncated header");
        }

        uint clusterBits = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[20..]);
        if (clusterBits is < Qcow2Header.MinClusterBits or > Qcow2Header.MaxClusterBits)
        {
            // Let Parse produce the precise message.
            return Qcow2Header.Parse(fixedPart[..n], fileLength, path);
        }

        byte[] first = new byte[(int)Math.Min(1UL << (int)clusterBits, fileLength)];
        int read = RandomAccess.Read(file, first, 0);
        return Qcow2Header.Parse(first.AsSpan(0, read), fileLength, path);
    }

    /// <summary>Where a backing file name stored in <paramref name="imagePath"/> points: relative names are relative to the image's folder.</summary>
    public static string ResolveBackingPath(string imagePath, string backingName)
    {
        if (backingName.Contains(':', StringComparison.Ordinal) && !File.Exists(backingName) &&
            backingName.Split(':')[0] is "nbd" or "http" or "https" or "ssh" or "iscsi" or "rbd" or "json")
        {
            throw new DiskImageException($"{imagePath}: backing file '{backingName}' is a protocol URL, which is not supported");
        }

        if (System.IO.Path.IsPathRooted(backingName))
        {
            return backingName;
        }

        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(imagePath)) ?? ".";
        return System.IO.Path.Combine(folder, backingName);
    }

    /// <summary>
    /// Creates a version 3 qcow2 image (refcount_order 4). The file is written under a temporary name, fsynced and
    /// renamed, so a crash never leaves a half-written image. <paramref name="backingFile"/> is stored as given.
    /// </summary>
    public static void Create(string path, ulong size, int clusterBits = 16, string? backingFile = null, string? backingFormat = null)
    {
        if (clusterBits is < Qcow2Header.MinClusterBits or > Qcow2Header.MaxClusterBits)
        {
            throw new DiskImageException($"cluster size 2^{clusterBits} is outside 512 bytes..2 MiB");
        }

        if (size > (1UL << 61))
        {
            throw new DiskImageException($"size {size} is too large for qcow2");
        }

        if (backingFile is not null && backingFormat is not null)
        {
            ImageFormatNames.ParseSupported(backingFormat);
        }

        ulong cs = 1UL << clusterBits;
        ulong l1Entries = Qcow2Header.RequiredL1Entries(size, clusterBits);
        if (l1Entries * 8 > Qcow2Header.MaxL1Bytes)
        {
            throw new DiskImageException($"size {size} needs an L1 table larger than 32 MiB; use bigger clusters");
        }

        // Layout: header | L1 table | refcount table | refcount blocks, sized to cover themselves.
        ulong l1Clusters = Math.Max(1, (l1Entries * 8 + cs - 1) / cs);
        ulong refcountsPerBlock = cs / 2;
        ulong tableClusters = 1, blockClusters = 1;
        while (true)
        {
            ulong total = 1 + l1Clusters + tableClusters + blockClusters;
            ulong needBlocks = (total + refcountsPerBlock - 1) / refcountsPerBlock;
            ulong needTable = Math.Max(1, (needBlocks * 8 + cs - 1) / cs);
            if (needBlocks <= blockClusters && needTable <= tableClusters)
            {
                break;
            }

            blockClusters = Math.Max(blockClusters, needBlocks);
            tableClusters = Math.Max(tableClusters, needTable);
        }

        ulong l1Offset = cs;
        ulong tableOffset = l1Offset + l1Clusters * cs;
        ulong blocksOffset = tableOffset + tableClusters * cs;
        ulong totalClusters = 1 + l1Clusters + tableClusters + blockClusters;
        if (tableClusters * cs > Qcow2Header.MaxRefcountTableBytes)
        {
            throw new DiskImageException($"size {size} needs too large a refcount table; use bigger clusters");
        }

        byte[] header = Qcow2Header.BuildVersion3(
            clusterBits, size, (uint)l1Entries, l1Offset, tableOffset, (uint)tableClusters, backingFile, backingFormat);
        byte[] table = new byte[tableClusters * cs];
        for (ulong b = 0; b < blockClusters; b++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan((int)(b * 8)), blocksOffset + b * cs);
        }

        byte[] blocks = new byte[blockClusters * cs];
        for (ulong c = 0; c < totalClusters; c++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(blocks.AsSpan((int)(c * 2)), 1);
        }

        string full = System.IO.Path.GetFullPath(path);
        string temp = System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(full) ?? ".",
            $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                RandomAccess.Write(handle, header, 0);
                RandomAccess.SetLength(handle, (long)(totalClusters * cs)); // L1 table: zeroes
                RandomAccess.Write(handle, table, (long)tableOffset);
                RandomAccess.Write(handle, blocks, (long)blocksOffset);
                RandomAccess.FlushToDisk(handle);
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
        CheckOpen();
        CheckRange(offset, (ulong)buffer.Length);
        while (buffer.Length > 0)
        {
            int inCluster = (int)(offset & (ulong)(_clusterSize - 1));
            int n = Math.Min(buffer.Length, _clusterSize - inCluster);
            ReadWithinCluster(offset, buffer[..n]);
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
            int inCluster = (int)(offset & (ulong)(_clusterSize - 1));
            int n = Math.Min(data.Length, _clusterSize - inCluster);
            WriteWithinCluster(offset, data[..n]);
            data = data[n..];
            offset += (ulong)n;
        }
    }

    public void Flush()
    {
        CheckOpen();
        if (!IsReadOnly)
        {
            WriteBackMetadata(applyFrees: true);
            RandomAccess.FlushToDisk(_file);
        }
    }

    /// <summary>Whole clusters in the range are unmapped (zero clusters where a backing file would show through).</summary>
    public void Discard(ulong offset, ulong length) => UnmapClusters(offset, length);

    public void WriteZeroes(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        ulong cs = (ulong)_clusterSize;
        ulong end = offset + length;
        ulong firstWhole = (offset + cs - 1) & ~(cs - 1);
        ulong lastWhole = end == Size ? (end + cs - 1) & ~(cs - 1) : end & ~(cs - 1);
        bool canUseZeroFlag = _header.Version >= 3 || _backing is null;
        if (!canUseZeroFlag || firstWhole >= lastWhole)
        {
            WriteZeroBytes(offset, length);
            return;
        }

        WriteZeroBytes(offset, firstWhole - offset);
        UnmapClusters(firstWhole, Math.Min(lastWhole, end) - firstWhole);
        if (lastWhole < end)
        {
            WriteZeroBytes(lastWhole, end - lastWhole);
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
                // Twice: the second pass persists refcount decreases for clusters freed by the first.
                Flush();
                if (_pendingFrees.Count > 0 || _dirtyRefcountBlocks.Count > 0)
                {
                    Flush();
                }
            }
        }
        finally
        {
            _disposed = true;
            _file.Dispose();
            _backing?.Dispose();
        }
    }

    /// <summary>
    /// Writes one whole guest cluster compressed with raw deflate (spec "Compressed Clusters Descriptor"); used by
    /// <c>convert -c</c>. Falls back to a normal write when the data does not shrink. The cluster must be unallocated.
    /// </summary>
    public void WriteCompressedCluster(ulong guestOffset, ReadOnlySpan<byte> cluster)
    {
        CheckWritable();
        if ((guestOffset & (ulong)(_clusterSize - 1)) != 0 || cluster.Length != (int)Math.Min((ulong)_clusterSize, Size - guestOffset))
        {
            throw new ArgumentException("a compressed write covers exactly one whole cluster");
        }

        byte[] full = new byte[_clusterSize];
        cluster.CopyTo(full);
        byte[] packed = Qcow2Deflate.Compress(full);
        if (packed.Length >= _clusterSize - 512)
        {
            Write(guestOffset, cluster);
            return;
        }

        var (l2Offset, table) = GetL2TableForWrite(guestOffset);
        int index = L2Index(guestOffset);
        ulong old = table[index];
        if ((old & ~(CopiedFlag | ZeroFlag)) != 0)
        {
            throw new InvalidOperationException("compressed writes only go to unallocated clusters");
        }

        ulong cs = (ulong)_clusterSize;
        ulong length = (ulong)packed.Length;
        if (_compressedCursor == 0 || _compressedCursor + length > _compressedEnd || _compressedEnd != _nextFreeCluster << _clusterBits)
        {
            _compressedCursor = _nextFreeCluster << _clusterBits;
            _compressedEnd = _compressedCursor;
        }

        // Grow the compressed area with contiguous clusters so the data may run into the next host cluster.
        while (_compressedCursor + length > _compressedEnd)
        {
            _nextFreeCluster++;
            _compressedEnd += cs;
        }

        ulong host = _compressedCursor;
        RandomAccess.Write(_file, packed, (long)host);
        for (ulong c = host >> _clusterBits; c <= (host + length - 1) >> _clusterBits; c++)
        {
            ChangeRefcount(c, +1);
        }

        _compressedCursor += length;
        int x = 62 - (_clusterBits - 8);
        ulong sectors = ((host + length - 1) >> 9) - (host >> 9);
        SetL2Entry(l2Offset, table, index, CompressedFlag | (sectors << x) | host);
    }

    private void ReadWithinCluster(ulong guestOffset, Span<byte> destination)
    {
        ulong entry = GetL2Entry(guestOffset);
        int inCluster = (int)(guestOffset & (ulong)(_clusterSize - 1));
        if ((entry & CompressedFlag) != 0)
        {
            Decompress(entry).AsSpan(inCluster, destination.Length).CopyTo(destination);
            return;
        }

        if (_header.Version >= 3 && (entry & ZeroFlag) != 0)
        {
            destination.Clear();
            return;
        }

        ulong host = entry & OffsetMask;
        if (host == 0)
        {
            ReadBacking(guestOffset, destination);
            return;
        }

        CheckClusterAligned(host, "data cluster");
        ReadHost(host + (ulong)inCluster, destination);
    }

    private void ReadBacking(ulong guestOffset, Span<byte> destination)
    {
        if (_backing is null || guestOffset >= _backing.Size)
        {
            destination.Clear();
            return;
        }

        int available = (int)Math.Min((ulong)destination.Length, _backing.Size - guestOffset);
        _backing.Read(guestOffset, destination[..available]);
        destination[available..].Clear();
    }

    private void ReadHost(ulong hostOffset, Span<byte> destination)
    {
        long position = (long)hostOffset;
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(_file, destination, position);
            if (n == 0)
            {
                destination.Clear(); // past the end of the file: never written, reads as zeroes
                return;
            }

            destination = destination[n..];
            position += n;
        }
    }

    private byte[] Decompress(ulong entry)
    {
        if (entry == _decompressedEntry && _decompressed is not null)
        {
            return _decompressed;
        }

        // Compressed Clusters Descriptor: x = 62 - (cluster_bits - 8); bits 0..x-1 host offset,
        // bits x..61 additional 512-byte sectors beyond the one holding the offset.
        int x = 62 - (_clusterBits - 8);
        ulong host = entry & ((1UL << x) - 1) & 0x00ff_ffff_ffff_ffff;
        ulong sectors = (entry >> x) & ((1UL << (62 - x)) - 1);
        ulong length = (sectors + 1) * 512 - (host & 511);
        ulong fileLength = (ulong)RandomAccess.GetLength(_file);
        if (host >= fileLength)
        {
            throw new IOException($"{Path}: compressed cluster at 0x{host:x} lies past the end of the file");
        }

        length = Math.Min(length, fileLength - host);
        byte[] packed = new byte[length];
        ReadHost(host, packed);
        byte[] output = _decompressed ?? new byte[_clusterSize];
        _decompressedEntry = ulong.MaxValue;
        if (!Qcow2Deflate.TryDecompress(packed, output))
        {
            throw new IOException($"{Path}: compressed cluster at 0x{host:x} does not decompress to a whole cluster");
        }

        _decompressed = output;
        _decompressedEntry = entry;
        return output;
    }

    private void WriteWithinCluster(ulong guestOffset, ReadOnlySpan<byte> data)
    {
        var (l2Offset, table) = GetL2TableForWrite(guestOffset);
        int index = L2Index(guestOffset);
        ulong entry = table[index];
        int inCluster = (int)(guestOffset & (ulong)(_clusterSize - 1));
        ulong host = entry & OffsetMask;
        bool zero = _header.Version >= 3 && (entry & ZeroFlag) != 0;
        bool whole = inCluster == 0 && (data.Length == _clusterSize || guestOffset + (ulong)data.Length == Size);
        if ((entry & CompressedFlag) == 0 && (entry & CopiedFlag) != 0 && host != 0)
        {
            // Allocated and owned only by us: write in place (a preallocated zero cluster is zeroed first).
            CheckClusterAligned(host, "data cluster");
            if (host >= _nextFreeCluster << _clusterBits)
            {
                throw new IOException($"{Path}: corrupt qcow2 image: data cluster 0x{host:x} lies past the end of the file");
            }

            if (zero && !whole)
            {
                byte[] fill = new byte[_clusterSize];
                data.CopyTo(fill.AsSpan(inCluster));
                RandomAccess.Write(_file, fill, (long)host);
            }
            else
            {
                RandomAccess.Write(_file, data, (long)(host + (ulong)inCluster));
            }

            if (zero)
            {
                SetL2Entry(l2Offset, table, index, entry & ~ZeroFlag);
            }

            return;
        }

        // Copy-on-write: the new cluster gets the old contents (backing, compressed, shared or zero) around the data.
        byte[]? buffer = null;
        if (!whole)
        {
            buffer = new byte[_clusterSize];
            ulong clusterStart = guestOffset - (ulong)inCluster;
            int valid = (int)Math.Min((ulong)_clusterSize, Size - clusterStart);
            ReadWithinCluster(clusterStart, buffer.AsSpan(0, valid));
            data.CopyTo(buffer.AsSpan(inCluster));
        }

        ulong newHost = AllocateClusters(1);
        RandomAccess.Write(_file, buffer is null ? data : buffer, (long)newHost);
        table = ReloadL2(l2Offset, table);
        SetL2Entry(l2Offset, table, index, newHost | CopiedFlag);
        ReleaseMapping(entry);
    }

    /// <summary>
    /// Unmaps whole clusters of the range: unallocated without a backing file, zero clusters (v3) with one so the
    /// backing file does not show through. What they pointed to is freed once the change is durable.
    /// </summary>
    private void UnmapClusters(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        if (_backing is not null && _header.Version < 3)
        {
            return; // v2 has no zero clusters: a discard keeps the data (WriteZeroes writes zero bytes instead)
        }

        ulong cs = (ulong)_clusterSize;
        ulong start = (offset + cs - 1) & ~(cs - 1);
        ulong end = offset + length == Size ? offset + length : (offset + length) & ~(cs - 1);
        ulong replacement = _backing is null ? 0 : ZeroFlag;
        for (ulong guest = start; guest < end; guest += cs)
        {
            ulong current = GetL2Entry(guest);
            if ((current & ~CopiedFlag) == replacement)
            {
                continue;
            }

            var (l2Offset, table) = GetL2TableForWrite(guest);
            int index = L2Index(guest);
            ulong old = table[index];
            SetL2Entry(l2Offset, table, index, replacement);
            ReleaseMapping(old);
        }
    }

    private void WriteZeroBytes(ulong offset, ulong length)
    {
        byte[] zeroes = new byte[(int)Math.Min(length, (ulong)_clusterSize)];
        while (length > 0)
        {
            int n = (int)Math.Min(length, (ulong)zeroes.Length);
            Write(offset, zeroes.AsSpan(0, n));
            offset += (ulong)n;
            length -= (ulong)n;
        }
    }

    /// <summary>Schedules the refcount decrease for what an L2 entry pointed to, applied once the new entry is durable.</summary>
    private void ReleaseMapping(ulong entry)
    {
        if ((entry & CompressedFlag) != 0)
        {
            int x = 62 - (_clusterBits - 8);
            ulong host = entry & ((1UL << x) - 1) & 0x00ff_ffff_ffff_ffff;
            ulong sectors = (entry >> x) & ((1UL << (62 - x)) - 1);
            ulong last = host + (sectors + 1) * 512 - (host & 511) - 1;
            for (ulong c = host >> _clusterBits; c <= last >> _clusterBits; c++)
            {
                _pendingFrees.Add(c << _clusterBits);
            }

            if (_decompressedEntry == entry)
            {
                _decompressedEntry = ulong.MaxValue;
            }
        }
        else if ((entry & OffsetMask) != 0)
        {
            _pendingFrees.Add(entry & OffsetMask);
        }
    }

    private ulong GetL2Entry(ulong guestOffset)
    {
        ulong l1Entry = _l1[L1Index(guestOffset)];
        ulong l2Offset = l1Entry & OffsetMask;
        return l2Offset == 0 ? 0 : LoadL2(l2Offset)[L2Index(guestOffset)];
    }

    private (ulong Offset, ulong[] Table) GetL2TableForWrite(ulong guestOffset)
    {
        int l1Index = L1Index(guestOffset);
        ulong l1Entry = _l1[l1Index];
        ulong oldOffset = l1Entry & OffsetMask;
        if (oldOffset != 0 && (l1Entry & CopiedFlag) != 0)
        {
            return (oldOffset, LoadL2(oldOffset));
        }

        // No L2 table yet, or one shared with a snapshot: give the active L1 its own copy.
        ulong[] table = oldOffset == 0 ? new ulong[1 << _l2Bits] : (ulong[])LoadL2(oldOffset).Clone();
        ulong newOffset = AllocateClusters(1);
        _l2Cache[newOffset] = table;
        _dirtyL2.Add(newOffset);
        _l1[l1Index] = newOffset | CopiedFlag;
        _dirtyL1.Add(l1Index);
        if (oldOffset != 0)
        {
            _pendingFrees.Add(oldOffset);
        }

        return (newOffset, table);
    }

    private ulong[] ReloadL2(ulong l2Offset, ulong[] table) => _l2Cache.TryGetValue(l2Offset, out var cached) ? cached : table;

    private void SetL2Entry(ulong l2Offset, ulong[] table, int index, ulong value)
    {
        table[index] = value;
        _l2Cache[l2Offset] = table;
        _dirtyL2.Add(l2Offset);
    }

    private ulong[] LoadL2(ulong l2Offset)
    {
        if (_l2Cache.TryGetValue(l2Offset, out var cached))
        {
            return cached;
        }

        CheckClusterAligned(l2Offset, "L2 table");
        if (l2Offset + (ulong)_clusterSize > (ulong)RandomAccess.GetLength(_file))
        {
            throw new IOException($"{Path}: corrupt qcow2 image: L2 table at 0x{l2Offset:x} lies past the end of the file");
        }

        MakeRoom(_l2Cache, _dirtyL2);
        var table = ReadTable(l2Offset, 1 << _l2Bits);
        _l2Cache[l2Offset] = table;
        return table;
    }

    private void MakeRoom<T>(Dictionary<ulong, T> cache, HashSet<ulong> dirty)
    {
        if (cache.Count < MaxCachedTables)
        {
            return;
        }

        if (dirty.Count > 0)
        {
            WriteBackMetadata(applyFrees: false);
        }

        // Drop every clean table; tables callers still hold are re-added by SetL2Entry / ChangeRefcount.
        foreach (ulong key in cache.Keys.Where(k => !dirty.Contains(k)).ToList())
        {
            cache.Remove(key);
        }
    }

    /// <summary>Reserves <paramref name="count"/> contiguous clusters at the end of the file, refcount 1 each.</summary>
    private ulong AllocateClusters(int count)
    {
        ulong first = _nextFreeCluster;
        if (((first + (ulong)count) << _clusterBits) > OffsetMask)
        {
            throw new IOException($"{Path}: the image file is full (host offsets exhausted)");
        }

        _nextFreeCluster += (ulong)count;
        for (ulong c = first; c < first + (ulong)count; c++)
        {
            ChangeRefcount(c, +1);
        }

        return first << _clusterBits;
    }

    private void ChangeRefcount(ulong cluster, int delta)
    {
        ulong perBlock = (ulong)_clusterSize / 2;
        ulong blockIndex = cluster / perBlock;
        int index = (int)(cluster % perBlock);
        if (blockIndex >= (ulong)_refcountTable.Length)
        {
            GrowRefcountTable(blockIndex);
        }

        ulong blockOffset = _refcountTable[blockIndex] & ~511UL;
        ushort[] block;
        if (blockOffset == 0)
        {
            // New refcount block at the end of the file; it counts itself if it falls in its own range.
            ulong blockCluster = _nextFreeCluster++;
            blockOffset = blockCluster << _clusterBits;
            block = new ushort[perBlock];
            _refcountBlocks[blockOffset] = block;
            _dirtyRefcountBlocks.Add(blockOffset);
            _refcountTable[blockIndex] = blockOffset;
            _dirtyRefcountTable.Add((int)blockIndex);
            if (blockCluster / perBlock == blockIndex)
            {
                block[blockCluster % perBlock] = 1;
            }
            else
            {
                ChangeRefcount(blockCluster, +1);
            }
        }
        else
        {
            block = LoadRefcountBlock(blockOffset);
        }

        int value = block[index] + delta;
        if (value is < 0 or > ushort.MaxValue)
        {
            throw new IOException($"{Path}: corrupt qcow2 image: refcount of cluster {cluster} would become {value}");
        }

        block[index] = (ushort)value;
        _refcountBlocks[blockOffset] = block;
        _dirtyRefcountBlocks.Add(blockOffset);
    }

    private ushort[] LoadRefcountBlock(ulong offset)
    {
        if (_refcountBlocks.TryGetValue(offset, out var cached))
        {
            return cached;
        }

        CheckClusterAligned(offset, "refcount block");
        if (offset + (ulong)_clusterSize > (ulong)RandomAccess.GetLength(_file))
        {
            throw new IOException($"{Path}: corrupt qcow2 image: refcount block at 0x{offset:x} lies past the end of the file");
        }

        MakeRoom(_refcountBlocks, _dirtyRefcountBlocks);
        byte[] raw = new byte[_clusterSize];
        ReadHost(offset, raw);
        var block = new ushort[_clusterSize / 2];
        for (int i = 0; i < block.Length; i++)
        {
            block[i] = BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(i * 2));
        }

        _refcountBlocks[offset] = block;
        return block;
    }

    /// <summary>
    /// Moves the refcount table to a bigger one at the end of the file (spec "Host cluster management"): new blocks
    /// and table are written and fsynced before the header points at them; the old table is freed afterwards.
    /// </summary>
    private void GrowRefcountTable(ulong neededBlockIndex)
    {
        ulong perBlock = (ulong)_clusterSize / 2;
        ulong entriesPerCluster = (ulong)_clusterSize / 8;
        ulong oldEntries = (ulong)_refcountTable.Length;
        ulong wanted = Math.Max(neededBlockIndex + 1, oldEntries * 2);

        // Leave room for the new table's clusters and the blocks that will count them.
        wanted = Math.Max(wanted, ((_nextFreeCluster + (wanted * 8 / (ulong)_clusterSize) + 4) / perBlock) + 2);
        ulong tableClusters = (wanted + entriesPerCluster - 1) / entriesPerCluster;
        if (tableClusters * (ulong)_clusterSize > Qcow2Header.MaxRefcountTableBytes)
        {
            throw new IOException($"{Path}: the refcount table would exceed {Qcow2Header.MaxRefcountTableBytes} bytes");
        }

        var newTable = new ulong[tableClusters * entriesPerCluster];
        Array.Copy(_refcountTable, newTable, _refcountTable.Length);
        ulong oldOffset = _refcountTableOffset;
        ulong oldClusters = (oldEntries * 8 + (ulong)_clusterSize - 1) >> _clusterBits;
        ulong tableCluster = _nextFreeCluster;
        _nextFreeCluster += tableClusters;
        _refcountTable = newTable;
        for (ulong c = tableCluster; c < tableCluster + tableClusters; c++)
        {
            ChangeRefcount(c, +1);
        }

        // Blocks first, then the table, then the header; each step durable before the next.
        WriteRefcountBlocks();
        RandomAccess.FlushToDisk(_file);
        ulong newOffset = tableCluster << _clusterBits;
        RandomAccess.Write(_file, EncodeTable(newTable), (long)newOffset);
        RandomAccess.FlushToDisk(_file);
        byte[] field = new byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(field, newOffset);
        BinaryPrimitives.WriteUInt32BigEndian(field.AsSpan(8), (uint)tableClusters);
        RandomAccess.Write(_file, field, 48);
        RandomAccess.FlushToDisk(_file);
        _refcountTableOffset = newOffset;
        _refcountTableEntriesOnDisk = (ulong)newTable.Length;
        _dirtyRefcountTable.Clear();
        for (ulong c = 0; c < oldClusters; c++)
        {
            ChangeRefcount((oldOffset >> _clusterBits) + c, -1);
        }
    }

    /// <summary>Writes cached metadata back in crash-safe order (see the class remarks) and applies deferred frees.</summary>
    private void WriteBackMetadata(bool applyFrees)
    {
        if (IsReadOnly)
        {
            return;
        }

        bool pointers = _dirtyL2.Count > 0 || _dirtyL1.Count > 0;
        if (_dirtyRefcountBlocks.Count > 0 || _dirtyRefcountTable.Count > 0 || pointers)
        {
            WriteRefcountBlocks();
            foreach (int i in _dirtyRefcountTable.Where(i => (ulong)i < _refcountTableEntriesOnDisk))
            {
                WriteEntry(_refcountTableOffset + (ulong)i * 8, _refcountTable[i]);
            }

            _dirtyRefcountTable.Clear();
            RandomAccess.FlushToDisk(_file); // guest data and refcounts before any pointer to them
        }

        if (_dirtyL2.Count > 0)
        {
            foreach (ulong offset in _dirtyL2)
            {
                RandomAccess.Write(_file, EncodeTable(_l2Cache[offset]), (long)offset);
            }

            _dirtyL2.Clear();
            if (_dirtyL1.Count > 0)
            {
                RandomAccess.FlushToDisk(_file); // L2 tables before the L1 entries that point to them
            }
        }

        if (_dirtyL1.Count > 0)
        {
            foreach (int i in _dirtyL1)
            {
                WriteEntry(_header.L1TableOffset + (ulong)i * 8, _l1[i]);
            }

            _dirtyL1.Clear();
        }

        if (pointers)
        {
            RandomAccess.FlushToDisk(_file);
        }

        // The old pointers are gone from the disk: now their clusters may lose their references.
        if (applyFrees && _pendingFrees.Count > 0)
        {
            var frees = _pendingFrees.ToArray();
            _pendingFrees.Clear();
            foreach (ulong offset in frees)
            {
                ChangeRefcount(offset >> _clusterBits, -1);
            }
        }
    }

    private void WriteRefcountBlocks()
    {
        byte[] raw = new byte[_clusterSize];
        foreach (ulong offset in _dirtyRefcountBlocks)
        {
            var block = _refcountBlocks[offset];
            for (int i = 0; i < block.Length; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(raw.AsSpan(i * 2), block[i]);
            }

            RandomAccess.Write(_file, raw, (long)offset);
        }

        _dirtyRefcountBlocks.Clear();
    }

    private void WriteEntry(ulong offset, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        RandomAccess.Write(_file, b, (long)offset);
    }

    private void WriteHeaderField(long offset, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        RandomAccess.Write(_file, b, offset);
    }

    private ulong[] ReadTable(ulong offset, int entries)
    {
        byte[] raw = new byte[entries * 8];
        ReadHost(offset, raw);
        var table = new ulong[entries];
        for (int i = 0; i < entries; i++)
        {
            table[i] = BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(i * 8));
        }

        return table;
    }

    private static byte[] EncodeTable(ulong[] table)
    {
        byte[] raw = new byte[table.Length * 8];
        for (int i = 0; i < table.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(raw.AsSpan(i * 8), table[i]);
        }

        return raw;
    }

    private int L1Index(ulong guestOffset) => (int)(guestOffset >> (_clusterBits + _l2Bits));

    private int L2Index(ulong guestOffset) => (int)((guestOffset >> _clusterBits) & ((1UL << _l2Bits) - 1));

    private void CheckClusterAligned(ulong offset, string what)
    {
        if ((offset & (ulong)(_clusterSize - 1)) != 0)
        {
            throw new IOException($"{Path}: corrupt qcow2 image: {what} offset 0x{offset:x} is not cluster aligned");
        }
    }

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
