using System.Buffers.Binary;
using System.Text;

namespace Vessel.Storage.Vhd;

/// <summary>
/// The 1024-byte "Dynamic Disk Header" of dynamic and differencing disks (VHD specification): a "cxsparse" cookie,
/// the Block Allocation Table's place and size, the block size, and for differencing disks the parent's identity
/// and locators. Big-endian, with the same one's-complement checksum as the footer.
/// </summary>
internal sealed record VhdDynamicHeader
{
    public const int Length = 1024;
    public const uint HeaderVersion = 0x0001_0000;
    public const uint DefaultBlockSize = 2 << 20;
    public const uint MinBlockSize = 512;

    /// <summary>Largest block Vessel accepts (spec default 2 MiB; Hyper-V uses up to 256 MiB for large disks).</summary>
    public const uint MaxBlockSize = 256 << 20;

    /// <summary>Largest BAT Vessel loads: 16 Mi entries (64 MiB), which with 2 MiB blocks covers any VHD's 2040 GiB.</summary>
    public const uint MaxTableEntries = 16 << 20;

    public const int LocatorCount = 8;
    private const int ParentNameOffset = 64;
    private const int ParentNameLength = 512;
    private const int LocatorsOffset = 576;

    public static ReadOnlySpan<byte> Cookie => "cxsparse"u8;

    public ulong TableOffset { get; init; }

    public uint Version { get; init; } = HeaderVersion;

    public uint MaxTableEntryCount { get; init; }

    public uint BlockSize { get; init; } = DefaultBlockSize;

    public Guid ParentUniqueId { get; init; }

    public uint ParentTimestamp { get; init; }

    /// <summary>The parent's file name ("Parent Unicode Name", UTF-16 big-endian, NUL padded).</summary>
    public string ParentName { get; init; } = string.Empty;

    public VhdParentLocator[] Locators { get; init; } = new VhdParentLocator[LocatorCount];

    /// <summary>Smallest block Vessel creates: QEMU computes a zero-length bitmap for blocks under 4 KiB.</summary>
    public const uint MinCreatedBlockSize = 4096;

    /// <summary>Bytes of the sector bitmap in front of each block: one bit per sector, padded to whole sectors.</summary>
    public uint BitmapSize => (((BlockSize / 512) + 7) / 8 + 511) & ~511u;

    /// <summary>Decodes and validates the header's own fields (not yet against the file); throws with the problem named.</summary>
    public static VhdDynamicHeader Decode(ReadOnlySpan<byte> raw, string path)
    {
        if (raw.Length < Length || !raw.StartsWith(Cookie))
        {
            throw new DiskImageException($"{path}: malformed VHD image: no 'cxsparse' dynamic disk header cookie");
        }

        uint stored = BinaryPrimitives.ReadUInt32BigEndian(raw[36..]);
        uint computed = VhdFooter.Checksum(raw[..Length], 36);
        if (stored != computed)
        {
            throw new DiskImageException($"{path}: malformed VHD image: dynamic disk header checksum is 0x{stored:x8} but the header sums to 0x{computed:x8}");
        }

        uint version = BinaryPrimitives.ReadUInt32BigEndian(raw[24..]);
        if (version >> 16 != HeaderVersion >> 16)
        {
            throw new DiskImageException($"{path}: unsupported VHD dynamic disk header version 0x{version:x8}");
        }

        uint blockSize = BinaryPrimitives.ReadUInt32BigEndian(raw[32..]);
        if (!uint.IsPow2(blockSize) || blockSize < MinBlockSize || blockSize > MaxBlockSize)
        {
            throw new DiskImageException($"{path}: malformed VHD image: block size {blockSize} is not a power of two from 512 bytes to 256 MiB");
        }

        uint entries = BinaryPrimitives.ReadUInt32BigEndian(raw[28..]);
        if (entries > MaxTableEntries)
        {
            throw new DiskImageException($"{path}: malformed VHD image: the BAT has {entries} entries, more than the {MaxTableEntries} Vessel accepts");
        }

        var locators = new VhdParentLocator[LocatorCount];
        for (int i = 0; i < LocatorCount; i++)
        {
            var entry = raw.Slice(LocatorsOffset + (i * VhdParentLocator.EntryLength), VhdParentLocator.EntryLength);
            locators[i] = new VhdParentLocator(
                BinaryPrimitives.ReadUInt32BigEndian(entry),
                BinaryPrimitives.ReadUInt32BigEndian(entry[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(entry[8..]),
                BinaryPrimitives.ReadUInt64BigEndian(entry[16..]));
        }

        string parentName = Encoding.BigEndianUnicode.GetString(raw.Slice(ParentNameOffset, ParentNameLength));
        int nul = parentName.IndexOf('\0', StringComparison.Ordinal);
        return new VhdDynamicHeader
        {
            TableOffset = BinaryPrimitives.ReadUInt64BigEndian(raw[16..]),
            Version = version,
            MaxTableEntryCount = entries,
            BlockSize = blockSize,
            ParentUniqueId = new Guid(raw.Slice(40, 16), bigEndian: true),
            ParentTimestamp = BinaryPrimitives.ReadUInt32BigEndian(raw[56..]),
            ParentName = nul < 0 ? parentName : parentName[..nul],
            Locators = locators,
        };
    }

    public byte[] Encode()
    {
        byte[] raw = new byte[Length];
        var span = raw.AsSpan();
        Cookie.CopyTo(span);

        // "Data Offset" is unused; the specification says 0xFFFFFFFF but Microsoft's tools expect all 64 bits set.
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], ulong.MaxValue);
        BinaryPrimitives.WriteUInt64BigEndian(span[16..], TableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(span[24..], Version);
        BinaryPrimitives.WriteUInt32BigEndian(span[28..], MaxTableEntryCount);
        BinaryPrimitives.WriteUInt32BigEndian(span[32..], BlockSize);
        ParentUniqueId.TryWriteBytes(span.Slice(40, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt32BigEndian(span[56..], ParentTimestamp);
        byte[] name = Encoding.BigEndianUnicode.GetBytes(ParentName);
        if (name.Length > ParentNameLength)
        {
            throw new DiskImageException($"parent file name '{ParentName}' is longer than the 256 UTF-16 units a VHD holds");
        }

        name.CopyTo(span[ParentNameOffset..]);
        for (int i = 0; i < LocatorCount; i++)
        {
            var entry = span.Slice(LocatorsOffset + (i * VhdParentLocator.EntryLength), VhdParentLocator.EntryLength);
            var locator = Locators[i];
            BinaryPrimitives.WriteUInt32BigEndian(entry, locator.PlatformCode);
            BinaryPrimitives.WriteUInt32BigEndian(entry[4..], locator.DataSpace);
            BinaryPrimitives.WriteUInt32BigEndian(entry[8..], locator.DataLength);
            BinaryPrimitives.WriteUInt64BigEndian(entry[16..], locator.DataOffset);
        }

        BinaryPrimitives.WriteUInt32BigEndian(span[36..], VhdFooter.Checksum(span, 36));
        return raw;
    }
}
