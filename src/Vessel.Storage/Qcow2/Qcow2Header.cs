using System.Buffers.Binary;
using System.Text;

namespace Vessel.Storage.Qcow2;

/// <summary>
/// A qcow2 header (QEMU docs/interop/qcow2.txt, "Header" and "Header extensions"), parsed and validated so that a
/// hostile image can neither make Vessel allocate unbounded memory nor point it outside the file.
/// </summary>
internal sealed record Qcow2Header
{
    public const uint Magic = 0x514649fb; // "QFI\xfb"
    public const int Version2Length = 72;
    public const int Version3Length = 104;
    public const int MinClusterBits = 9;
    public const int MaxClusterBits = 21;

    /// <summary>QEMU's limits: 32 MiB of L1 table, 8 MiB of refcount table, 65536 snapshots, 1023-byte backing name.</summary>
    public const ulong MaxL1Bytes = 32UL << 20;
    public const ulong MaxRefcountTableBytes = 8UL << 20;
    public const uint MaxSnapshots = 65536;
    public const uint MaxBackingFileNameLength = 1023;

    public const ulong IncompatibleDirty = 1UL << 0;
    public const ulong IncompatibleCorrupt = 1UL << 1;
    public const ulong IncompatibleExternalData = 1UL << 2;
    public const ulong IncompatibleCompressionType = 1UL << 3;
    public const ulong IncompatibleExtendedL2 = 1UL << 4;
    public const ulong CompatibleLazyRefcounts = 1UL << 0;

    /// <summary>Incompatible features Vessel understands: dirty and corrupt (both handled by refusing to write).</summary>
    public const ulong SupportedIncompatible = IncompatibleDirty | IncompatibleCorrupt | IncompatibleCompressionType;

    public const uint ExtensionEnd = 0;
    public const uint ExtensionBackingFormat = 0xe2792aca;
    public const uint ExtensionFeatureNames = 0x6803f857;
    public const uint ExtensionBitmaps = 0x23852875;
    public const uint ExtensionEncryption = 0x0537be77;
    public const uint ExtensionExternalData = 0x44415441;

    public uint Version { get; init; }

    public ulong BackingFileOffset { get; init; }

    public uint BackingFileSize { get; init; }

    public int ClusterBits { get; init; }

    public ulong Size { get; init; }

    public uint CryptMethod { get; init; }

    public uint L1Size { get; init; }

    public ulong L1TableOffset { get; init; }

    public ulong RefcountTableOffset { get; init; }

    public uint RefcountTableClusters { get; init; }

    public uint SnapshotCount { get; init; }

    public ulong SnapshotsOffset { get; init; }

    public ulong IncompatibleFeatures { get; init; }

    public ulong CompatibleFeatures { get; init; }

    public ulong AutoclearFeatures { get; init; }

    public int RefcountOrder { get; init; } = 4;

    public uint HeaderLength { get; init; }

    public byte CompressionType { get; init; }

    public string? BackingFile { get; init; }

    public string? BackingFormat { get; init; }

    public int ClusterSize => 1 << ClusterBits;

    public bool IsDirty => (IncompatibleFeatures & IncompatibleDirty) != 0;

    public bool IsCorrupt => (IncompatibleFeatures & IncompatibleCorrupt) != 0;

    public bool LazyRefcounts => (CompatibleFeatures & CompatibleLazyRefcounts) != 0;

    /// <summary>L1 entries needed to map <paramref name="size"/> bytes with 2^<paramref name="clusterBits"/> clusters.</summary>
    public static ulong RequiredL1Entries(ulong size, int clusterBits)
    {
        int l2Bits = clusterBits - 3;
        int shift = clusterBits + l2Bits;
        return (size >> shift) + ((size & ((1UL << shift) - 1)) != 0 ? 1UL : 0UL);
    }

    /// <summary>Parses and validates the header in <paramref name="firstCluster"/> (the file's first bytes, up to one cluster).</summary>
    public static Qcow2Header Parse(ReadOnlySpan<byte> firstCluster, ulong fileLength, string path)
    {
        var d = firstCluster;
        if (d.Length < Version2Length || BinaryPrimitives.ReadUInt32BigEndian(d) != Magic)
        {
            throw Malformed(path, "not a qcow2 image (bad magic or truncated header)");
        }

        uint version = BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
        if (version is not (2 or 3))
        {
            throw Malformed(path, $"unsupported qcow2 version {version} (2 and 3 are supported)");
        }

        int clusterBits = (int)BinaryPrimitives.ReadUInt32BigEndian(d[20..]);
        if (clusterBits is < MinClusterBits or > MaxClusterBits)
        {
            throw Malformed(path, $"cluster_bits {clusterBits} is outside {MinClusterBits}..{MaxClusterBits}");
        }

        ulong clusterSize = 1UL << clusterBits;
        ulong incompatible = 0, compatible = 0, autoclear = 0;
        int refcountOrder = 4;
        uint headerLength = Version2Length;
        byte compressionType = 0;
        if (version == 3)
        {
            if (d.Length < Version3Length)
            {
                throw Malformed(path, "truncated version 3 header");
            }

            incompatible = BinaryPrimitives.ReadUInt64BigEndian(d[72..]);
            compatible = BinaryPrimitives.ReadUInt64BigEndian(d[80..]);
            autoclear = BinaryPrimitives.ReadUInt64BigEndian(d[88..]);
            refcountOrder = (int)BinaryPrimitives.ReadUInt32BigEndian(d[96..]);
            headerLength = BinaryPrimitives.ReadUInt32BigEndian(d[100..]);
            if (headerLength < Version3Length || headerLength % 8 != 0 || headerLength > clusterSize ||
                headerLength > (uint)d.Length)
            {
                throw Malformed(path, $"header_length {headerLength} is invalid");
            }

            if (refcountOrder > 6)
            {
                throw Malformed(path, $"refcount_order {refcountOrder} is invalid (at most 6)");
            }

            if (headerLength > Version3Length)
            {
                compressionType = d[104];
            }
        }

        var header = new Qcow2Header
        {
            Version = version,
            BackingFileOffset = BinaryPrimitives.ReadUInt64BigEndian(d[8..]),
            BackingFileSize = BinaryPrimitives.ReadUInt32BigEndian(d[16..]),
            ClusterBits = clusterBits,
            Size = BinaryPrimitives.ReadUInt64BigEndian(d[24..]),
            CryptMethod = BinaryPrimitives.ReadUInt32BigEndian(d[32..]),
            L1Size = BinaryPrimitives.ReadUInt32BigEndian(d[36..]),
            L1TableOffset = BinaryPrimitives.ReadUInt64BigEndian(d[40..]),
            RefcountTableOffset = BinaryPrimitives.ReadUInt64BigEndian(d[48..]),
            RefcountTableClusters = BinaryPrimitives.ReadUInt32BigEndian(d[56..]),
            SnapshotCount = BinaryPrimitives.ReadUInt32BigEndian(d[60..]),
            SnapshotsOffset = BinaryPrimitives.ReadUInt64BigEndian(d[64..]),
            IncompatibleFeatures = incompatible,
            CompatibleFeatures = compatible,
            AutoclearFeatures = autoclear,
            RefcountOrder = refcountOrder,
            HeaderLength = headerLength,
            CompressionType = compressionType,
        };
        return header.ParseExtensions(d, fileLength, path);
    }

    private Qcow2Header ParseExtensions(ReadOnlySpan<byte> d, ulong fileLength, string path)
    {
        ulong clusterSize = (ulong)ClusterSize;
        string? backingFormat = null;
        var featureNames = new Dictionary<int, string>();

        // Header extensions follow the header and end within the first cluster ("Header extensions").
        int pos = (int)HeaderLength;
        while (true)
        {
            if (pos + 8 > d.Length || (ulong)pos + 8 > clusterSize)
            {
                throw Malformed(path, "header extensions run past the first cluster");
            }

            uint type = BinaryPrimitives.ReadUInt32BigEndian(d[pos..]);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d[(pos + 4)..]);
            pos += 8;
            if (type == ExtensionEnd)
            {
                break;
            }

            if (length > (uint)(d.Length - pos))
            {
                throw Malformed(path, $"header extension 0x{type:x8} runs past the first cluster");
            }

            var data = d.Slice(pos, (int)length);
            switch (type)
            {
                case ExtensionBackingFormat:
                    backingFormat = Encoding.UTF8.GetString(data);
                    break;
                case ExtensionFeatureNames:
                    // 48-byte entries: type (0 incompatible), bit number, 46-byte name.
                    for (int i = 0; i + 48 <= data.Length; i += 48)
                    {
                        if (data[i] == 0)
                        {
                            featureNames[data[i + 1]] = Encoding.UTF8.GetString(data.Slice(i + 2, 46)).TrimEnd('\0');
                        }
                    }

                    break;
                case ExtensionEncryption or ExtensionExternalData:
                    // Guarded by crypt_method and the external data file feature bit below.
                    break;
                default:
                    break; // unknown extensions are ignored (spec: "must be ignored")
            }

            pos += (int)((length + 7) & ~7u);
        }

        ulong unsupported = IncompatibleFeatures & ~SupportedIncompatible;
        if ((IncompatibleFeatures & IncompatibleCompressionType) != 0 && CompressionType != 0)
        {
            throw Malformed(path, $"compression type {CompressionType} (zstd) is not supported (only zlib)");
        }

        if (unsupported != 0)
        {
            var names = new List<string>();
            for (int bit = 0; bit < 64; bit++)
            {
                if ((unsupported & (1UL << bit)) != 0)
                {
                    names.Add(featureNames.TryGetValue(bit, out string? name) ? $"{name} (bit {bit})" : bit switch
                    {
                        2 => "external data file (bit 2)",
                        4 => "extended L2 entries (bit 4)",
                        _ => $"unknown feature bit {bit}",
                    });
                }
            }

            throw new DiskImageException($"{path}: unsupported qcow2 incompatible features: {string.Join(", ", names)}");
        }

        if (CryptMethod != 0)
        {
            throw new DiskImageException($"{path}: encrypted qcow2 images are not supported");
        }

        if (Size > (1UL << 61))
        {
            throw Malformed(path, $"virtual size {Size} is too large");
        }

        ulong l1Bytes = (ulong)L1Size * 8;
        if (l1Bytes > MaxL1Bytes)
        {
            throw Malformed(path, $"L1 table has {L1Size} entries (more than {MaxL1Bytes / 8})");
        }

        if (L1Size < RequiredL1Entries(Size, ClusterBits))
        {
            throw Malformed(path, $"L1 table has {L1Size} entries, too few for the virtual size {Size}");
        }

        CheckTable(L1TableOffset, l1Bytes, "L1 table", fileLength, path);
        ulong refcountBytes = (ulong)RefcountTableClusters * clusterSize;
        if (RefcountTableClusters == 0 || refcountBytes > MaxRefcountTableBytes)
        {
            throw Malformed(path, $"refcount table size of {RefcountTableClusters} clusters is invalid");
        }

        CheckTable(RefcountTableOffset, refcountBytes, "refcount table", fileLength, path);
        if (SnapshotCount > MaxSnapshots)
        {
            throw Malformed(path, $"{SnapshotCount} snapshots is more than {MaxSnapshots}");
        }

        if (SnapshotCount > 0)
        {
            CheckTable(SnapshotsOffset, 1, "snapshot table", fileLength, path);
        }

        string? backingFile = null;
        if (BackingFileOffset != 0)
        {
            if (BackingFileSize == 0 || BackingFileSize > MaxBackingFileNameLength ||
                BackingFileOffset > clusterSize || BackingFileOffset + BackingFileSize > (ulong)d.Length)
            {
                throw Malformed(path, "backing file name is outside the first cluster or too long");
            }

            backingFile = Encoding.UTF8.GetString(d.Slice((int)BackingFileOffset, (int)BackingFileSize));
        }

        return new Qcow2Header
        {
            Version = Version,
            BackingFileOffset = BackingFileOffset,
            BackingFileSize = BackingFileSize,
            ClusterBits = ClusterBits,
            Size = Size,
            CryptMethod = CryptMethod,
            L1Size = L1Size,
            L1TableOffset = L1TableOffset,
            RefcountTableOffset = RefcountTableOffset,
            RefcountTableClusters = RefcountTableClusters,
            SnapshotCount = SnapshotCount,
            SnapshotsOffset = SnapshotsOffset,
            IncompatibleFeatures = IncompatibleFeatures,
            CompatibleFeatures = CompatibleFeatures,
            AutoclearFeatures = AutoclearFeatures,
            RefcountOrder = RefcountOrder,
            HeaderLength = HeaderLength,
            CompressionType = CompressionType,
            BackingFile = backingFile,
            BackingFormat = backingFormat,
        };
    }

    private void CheckTable(ulong offset, ulong length, string what, ulong fileLength, string path)
    {
        if (length == 0)
        {
            return;
        }

        if (offset == 0 || (offset & ((ulong)ClusterSize - 1)) != 0)
        {
            throw Malformed(path, $"{what} offset 0x{offset:x} is not cluster aligned");
        }

        if (offset > fileLength || length > fileLength - offset)
        {
            throw Malformed(path, $"{what} at 0x{offset:x} (+{length} bytes) lies past the end of the file ({fileLength} bytes)");
        }
    }

    private static DiskImageException Malformed(string path, string why) => new($"{path}: malformed qcow2 image: {why}");

    /// <summary>Serialises a fresh version 3 header with its extensions (for <see cref="Qcow2Image.Create"/>).</summary>
    public static byte[] BuildVersion3(
        int clusterBits, ulong size, uint l1Size, ulong l1Offset, ulong refcountTableOffset, uint refcountTableClusters,
        string? backingFile, string? backingFormat)
    {
        int clusterSize = 1 << clusterBits;
        const int headerLength = 112;
        byte[] c = new byte[clusterSize];
        var s = c.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(s, Magic);
        BinaryPrimitives.WriteUInt32BigEndian(s[4..], 3);
        BinaryPrimitives.WriteUInt32BigEndian(s[20..], (uint)clusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(s[24..], size);
        BinaryPrimitives.WriteUInt32BigEndian(s[36..], l1Size);
        BinaryPrimitives.WriteUInt64BigEndian(s[40..], l1Offset);
        BinaryPrimitives.WriteUInt64BigEndian(s[48..], refcountTableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(s[56..], refcountTableClusters);
        BinaryPrimitives.WriteUInt32BigEndian(s[96..], 4); // refcount_order: 16-bit refcounts
        BinaryPrimitives.WriteUInt32BigEndian(s[100..], headerLength);
        int pos = headerLength;
        if (backingFormat is not null)
        {
            byte[] fmt = Encoding.UTF8.GetBytes(backingFormat);
            BinaryPrimitives.WriteUInt32BigEndian(s[pos..], ExtensionBackingFormat);
            BinaryPrimitives.WriteUInt32BigEndian(s[(pos + 4)..], (uint)fmt.Length);
            pos += 8;
            if (pos + fmt.Length + 8 > clusterSize)
            {
                throw new DiskImageException("backing format name does not fit in the first cluster");
            }

            fmt.CopyTo(s[pos..]);
            pos += (fmt.Length + 7) & ~7;
        }

        pos += 8; // end of extensions: type 0, length 0
        if (backingFile is not null)
        {
            byte[] name = Encoding.UTF8.GetBytes(backingFile);
            if (name.Length == 0 || name.Length > MaxBackingFileNameLength || pos + name.Length > clusterSize)
            {
                throw new DiskImageException("backing file name is empty, too long or does not fit in the first cluster");
            }

            name.CopyTo(s[pos..]);
            BinaryPrimitives.WriteUInt64BigEndian(s[8..], (ulong)pos);
            BinaryPrimitives.WriteUInt32BigEndian(s[16..], (uint)name.Length);
            pos += name.Length;
        }

        return c.AsSpan(0, pos).ToArray();
    }
}
