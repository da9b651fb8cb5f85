using System.Buffers.Binary;
using System.Text;

namespace Vessel.Storage.Vdi;

/// <summary>
/// The 512-byte header of a VirtualBox VDI image, version 1.1 (VirtualBox VDICore.h "VDIHEADER1PLUS"), little-endian:
/// a text banner, signature 0xbeda107f at 0x40, then type, block map and data offsets, disk and block sizes.
/// </summary>
internal sealed record VdiHeader
{
    public const int Length = 512;
    public const uint Signature = 0xbeda107f;
    public const uint Version11 = 0x00010001;
    public const uint TypeDynamic = 1;
    public const uint TypeFixed = 2;
    public const uint DefaultBlockSize = 1 << 20;

    /// <summary>Largest block accepted (VirtualBox and QEMU use 1 MiB); bounds each block buffer.</summary>
    public const uint MaxBlockSize = 16 << 20;

    /// <summary>Bounds the block map held in memory (64 MiB of entries; 16 TiB at 1 MiB blocks).</summary>
    public const uint MaxBlocks = 16 << 20;

    private const int HeaderSize = 0x180; // VDIHEADER1PLUS, counted from offset 0x48

    public uint Type { get; init; }

    public uint Flags { get; init; }

    public uint BlockMapOffset { get; init; }

    public uint DataOffset { get; init; }

    public ulong DiskSize { get; init; }

    public uint BlockSize { get; init; }

    public uint BlockExtra { get; init; }

    public uint Blocks { get; init; }

    public uint BlocksAllocated { get; init; }

    public Guid ImageUuid { get; init; }

    public Guid LastSnapshotUuid { get; init; }

    public Guid LinkUuid { get; init; }

    public Guid ParentUuid { get; init; }

    /// <summary>Bytes the block map occupies on disk (whole sectors).</summary>
    public ulong BlockMapBytes => (((ulong)Blocks * 4) + 511) / 512 * 512;

    public static VdiHeader Parse(ReadOnlySpan<byte> data, string path, ulong fileLength)
    {
        if (data.Length < Length)
        {
            throw new DiskImageException($"{path}: malformed VDI image: truncated header");
        }

        uint signature = BinaryPrimitives.ReadUInt32LittleEndian(data[0x40..]);
        if (signature != Signature)
        {
            throw new DiskImageException($"{path}: not a VDI image (signature 0x{signature:x8}, expected 0x{Signature:x8})");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(data[0x44..]);
        if (version != Version11)
        {
            throw new DiskImageException($"{path}: unsupported VDI version {version >> 16}.{version & 0xffff} (only 1.1)");
        }

        var header = new VdiHeader
        {
            Type = BinaryPrimitives.ReadUInt32LittleEndian(data[0x4c..]),
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(data[0x50..]),
            BlockMapOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[0x154..]),
            DataOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[0x158..]),
            DiskSize = BinaryPrimitives.ReadUInt64LittleEndian(data[0x170..]),
            BlockSize = BinaryPrimitives.ReadUInt32LittleEndian(data[0x178..]),
            BlockExtra = BinaryPrimitives.ReadUInt32LittleEndian(data[0x17c..]),
            Blocks = BinaryPrimitives.ReadUInt32LittleEndian(data[0x180..]),
            BlocksAllocated = BinaryPrimitives.ReadUInt32LittleEndian(data[0x184..]),
            ImageUuid = new Guid(data.Slice(0x188, 16)),
            LastSnapshotUuid = new Guid(data.Slice(0x198, 16)),
            LinkUuid = new Guid(data.Slice(0x1a8, 16)),
            ParentUuid = new Guid(data.Slice(0x1b8, 16)),
        };
        uint sectorSize = BinaryPrimitives.ReadUInt32LittleEndian(data[0x168..]);
        header.Validate(path, fileLength, sectorSize);
        return header;
    }

    public byte[] ToBytes()
    {
        byte[] data = new byte[Length];
        var span = data.AsSpan();
        Encoding.ASCII.GetBytes("<<< Oracle VM VirtualBox Disk Image >>>\n").CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x40..], Signature);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x44..], Version11);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x48..], HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x4c..], Type);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x50..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x154..], BlockMapOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x158..], DataOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x168..], 512); // sector size
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x170..], DiskSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x178..], BlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x17c..], BlockExtra);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x180..], Blocks);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x184..], BlocksAllocated);
        ImageUuid.TryWriteBytes(span.Slice(0x188, 16));
        LastSnapshotUuid.TryWriteBytes(span.Slice(0x198, 16));
        LinkUuid.TryWriteBytes(span.Slice(0x1a8, 16));
        ParentUuid.TryWriteBytes(span.Slice(0x1b8, 16));
        return data;
    }

    private void Validate(string path, ulong fileLength, uint sectorSize)
    {
        if (Type is not (TypeDynamic or TypeFixed))
        {
            string name = Type switch { 3 => "undo", 4 => "differencing", _ => $"type {Type}" };
            throw new DiskImageException($"{path}: unsupported VDI image kind: {name} (only dynamic and fixed)");
        }

        if (LinkUuid != Guid.Empty || ParentUuid != Guid.Empty)
        {
            throw new DiskImageException($"{path}: VDI images linked to a parent are not supported");
        }

        if (sectorSize != 512)
        {
            throw new DiskImageException($"{path}: unsupported VDI sector size {sectorSize} (only 512)");
        }

        if (BlockSize < 512 || BlockSize > MaxBlockSize || !uint.IsPow2(BlockSize))
        {
            throw new DiskImageException($"{path}: invalid VDI block size {BlockSize} (a power of two up to {MaxBlockSize})");
        }

        if (BlockExtra != 0)
        {
            throw new DiskImageException($"{path}: VDI images with per-block extra data ({BlockExtra} bytes) are not supported");
        }

        if (Blocks > MaxBlocks)
        {
            throw new DiskImageException($"{path}: VDI block map of {Blocks} entries is too large (at most {MaxBlocks})");
        }

        if (DiskSize > (ulong)Blocks * BlockSize)
        {
            throw new DiskImageException($"{path}: VDI disk size {DiskSize} is larger than its {Blocks} blocks of {BlockSize} bytes");
        }

        if (BlockMapOffset < Length || BlockMapOffset % 512 != 0 || DataOffset % 512 != 0)
        {
            throw new DiskImageException($"{path}: VDI block map offset {BlockMapOffset} or data offset {DataOffset} is invalid (sector-aligned, after the header)");
        }

        if ((ulong)BlockMapOffset + ((ulong)Blocks * 4) > DataOffset)
        {
            throw new DiskImageException($"{path}: VDI block map ({Blocks} entries at {BlockMapOffset}) overlaps the data at {DataOffset}");
        }

        if ((ulong)BlockMapOffset + ((ulong)Blocks * 4) > fileLength)
        {
            throw new DiskImageException($"{path}: VDI file is truncated: the block map ends past the end of the file ({fileLength} bytes)");
        }

        if (BlocksAllocated > Blocks)
        {
            throw new DiskImageException($"{path}: VDI header says {BlocksAllocated} blocks are allocated, more than the {Blocks} in the image");
        }
    }
}
