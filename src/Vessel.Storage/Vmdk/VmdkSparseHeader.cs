using System.Buffers.Binary;

namespace Vessel.Storage.Vmdk;

/// <summary>
/// The 512-byte header of a hosted sparse extent (VMDK spec 1.1, "Hosted Sparse Extent Header"), little-endian.
/// All offsets and sizes are in 512-byte sectors.
/// </summary>
internal sealed record VmdkSparseHeader
{
    public const int Length = 512;
    public const uint Magic = 0x564d444b; // "KDMV" read as a little-endian uint32
    public const ulong GrainDirectoryAtEnd = ulong.MaxValue;
    public const uint FlagNewlineDetection = 1 << 0;
    public const uint FlagRedundantGrainTable = 1 << 1;
    public const uint FlagZeroedGrain = 1 << 2;
    public const uint FlagCompressedGrains = 1 << 16;
    public const uint FlagMarkers = 1 << 17;
    public const ushort CompressionNone = 0;
    public const ushort CompressionDeflate = 1;

    /// <summary>Largest grain accepted: 16 MiB (VMware and QEMU use 64 KiB); bounds each grain buffer.</summary>
    public const ulong MaxGrainSectors = 1 << 15;

    /// <summary>Spec: "numGTEsPerGT ... is 512"; QEMU refuses more, and so does Vessel.</summary>
    public const uint MaxGrainTableEntries = 512;

    /// <summary>Bounds the grain directory held in memory (64 MiB), like QEMU's 32M-entry L1 limit.</summary>
    public const ulong MaxGrainDirectoryEntries = 16 << 20;

    public uint Version { get; init; }

    public uint Flags { get; init; }

    public ulong Capacity { get; init; }

    public ulong GrainSize { get; init; }

    public ulong DescriptorOffset { get; init; }

    public ulong DescriptorSize { get; init; }

    public uint GrainTableEntries { get; init; }

    public ulong RedundantGrainDirectoryOffset { get; init; }

    public ulong GrainDirectoryOffset { get; init; }

    public ulong Overhead { get; init; }

    public bool UncleanShutdown { get; init; }

    public ushort CompressAlgorithm { get; init; }

    public bool IsCompressed => CompressAlgorithm == CompressionDeflate;

    public bool HasMarkers => (Flags & FlagMarkers) != 0;

    public bool HasRedundantGrainDirectory => (Flags & FlagRedundantGrainTable) != 0 && RedundantGrainDirectoryOffset != 0;

    /// <summary>Grain-directory entries needed to cover <see cref="Capacity"/> (spec: "numGTs = capacity / grainSize / numGTEsPerGT", rounded up).</summary>
    public ulong GrainDirectoryEntries => (Capacity + (GrainSize * GrainTableEntries) - 1) / (GrainSize * GrainTableEntries);

    /// <summary>Sectors one grain table occupies on disk.</summary>
    public ulong GrainTableSectors => ((GrainTableEntries * 4UL) + 511) / 512;

    public static bool HasMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) == Magic;

    /// <summary>Parses and validates a header; <paramref name="what"/> names the file in messages.</summary>
    public static VmdkSparseHeader Parse(ReadOnlySpan<byte> data, string what)
    {
        if (data.Length < Length)
        {
            throw new DiskImageException($"{what}: malformed VMDK sparse extent: truncated header");
        }

        if (!HasMagic(data))
        {
            throw new DiskImageException($"{what}: not a VMDK sparse extent (bad magic 0x{BinaryPrimitives.ReadUInt32LittleEndian(data):x8}, expected \"KDMV\")");
        }

        var header = new VmdkSparseHeader
        {
            Version = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]),
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]),
            Capacity = BinaryPrimitives.ReadUInt64LittleEndian(data[12..]),
            GrainSize = BinaryPrimitives.ReadUInt64LittleEndian(data[20..]),
            DescriptorOffset = BinaryPrimitives.ReadUInt64LittleEndian(data[28..]),
            DescriptorSize = BinaryPrimitives.ReadUInt64LittleEndian(data[36..]),
            GrainTableEntries = BinaryPrimitives.ReadUInt32LittleEndian(data[44..]),
            RedundantGrainDirectoryOffset = BinaryPrimitives.ReadUInt64LittleEndian(data[48..]),
            GrainDirectoryOffset = BinaryPrimitives.ReadUInt64LittleEndian(data[56..]),
            Overhead = BinaryPrimitives.ReadUInt64LittleEndian(data[64..]),
            UncleanShutdown = data[72] != 0,
            CompressAlgorithm = BinaryPrimitives.ReadUInt16LittleEndian(data[77..]),
        };
        return header;
    }

    /// <summary>Checks the fields that size tables and buffers, so no hostile value causes a huge allocation.</summary>
    public void Validate(string what, ulong fileLength)
    {
        if (Version is 0 or > 3)
        {
            throw new DiskImageException($"{what}: unsupported VMDK sparse extent version {Version} (1 to 3 are supported)");
        }

        if (CompressAlgorithm is not (CompressionNone or CompressionDeflate))
        {
            throw new DiskImageException($"{what}: unsupported VMDK grain compression algorithm {CompressAlgorithm} (only deflate)");
        }

        if (GrainSize == 0 || !ulong.IsPow2(GrainSize) || GrainSize > MaxGrainSectors)
        {
            throw new DiskImageException($"{what}: invalid VMDK grain size {GrainSize} sectors (must be a power of two up to {MaxGrainSectors})");
        }

        if (GrainTableEntries is 0 or > MaxGrainTableEntries)
        {
            throw new DiskImageException($"{what}: invalid VMDK grain table size {GrainTableEntries} entries (1 to {MaxGrainTableEntries})");
        }

        if (Capacity > (ulong)long.MaxValue / 512)
        {
            throw new DiskImageException($"{what}: VMDK capacity {Capacity} sectors is too large");
        }

        if (GrainDirectoryEntries > MaxGrainDirectoryEntries)
        {
            throw new DiskImageException($"{what}: VMDK grain directory would have {GrainDirectoryEntries} entries (at most {MaxGrainDirectoryEntries}); capacity or grain size is absurd");
        }

        ulong fileSectors = fileLength / 512;
        if (Overhead > fileSectors)
        {
            throw new DiskImageException($"{what}: VMDK file is truncated: the header says grains start at sector {Overhead} but the file has {fileSectors} sectors");
        }

        if (GrainDirectoryEntries == 0)
        {
            return; // an empty disk has no tables
        }

        ulong directorySectors = ((GrainDirectoryEntries * 4) + 511) / 512;
        CheckTableInFile(what, "grain directory", GrainDirectoryOffset, directorySectors, fileSectors);
        if (HasRedundantGrainDirectory)
        {
            CheckTableInFile(what, "redundant grain directory", RedundantGrainDirectoryOffset, directorySectors, fileSectors);
        }
    }

    /// <summary>Serialises the header (spec layout, incl. the newline-detection bytes "\n \r\n").</summary>
    public byte[] ToBytes()
    {
        byte[] data = new byte[Length];
        var span = data.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(span[12..], Capacity);
        BinaryPrimitives.WriteUInt64LittleEndian(span[20..], GrainSize);
        BinaryPrimitives.WriteUInt64LittleEndian(span[28..], DescriptorOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(span[36..], DescriptorSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[44..], GrainTableEntries);
        BinaryPrimitives.WriteUInt64LittleEndian(span[48..], RedundantGrainDirectoryOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(span[56..], GrainDirectoryOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(span[64..], Overhead);
        data[72] = UncleanShutdown ? (byte)1 : (byte)0;
        data[73] = (byte)'\n';
        data[74] = (byte)' ';
        data[75] = (byte)'\r';
        data[76] = (byte)'\n';
        BinaryPrimitives.WriteUInt16LittleEndian(span[77..], CompressAlgorithm);
        return data;
    }

    private static void CheckTableInFile(string what, string name, ulong offset, ulong sectors, ulong fileSectors)
    {
        if (offset == 0 || offset > fileSectors || sectors > fileSectors - offset)
        {
            throw new DiskImageException($"{what}: VMDK {name} at sector {offset} ({sectors} sectors) lies outside the file ({fileSectors} sectors)");
        }
    }
}
