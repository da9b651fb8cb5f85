using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Vmdk;

/// <summary>
/// Writes a streamOptimized extent front to back (VMDK spec 1.1, "The Stream-Optimized Compressed Sparse Extent"):
/// header with the grain directory "at end", embedded descriptor, then per grain table its compressed grains
/// (grain marker + zlib data) followed by a grain-table marker and the table, then the grain-directory marker and
/// directory, the footer marker and footer, and the end-of-stream marker. Grains must come in ascending order.
/// </summary>
internal sealed class VmdkStreamWriter : IDisposable
{
    public const uint MarkerEndOfStream = 0;
    public const uint MarkerGrainTable = 1;
    public const uint MarkerGrainDirectory = 2;
    public const uint MarkerFooter = 3;

    private const ulong GrainSectors = 128; // 64 KiB, as VMware and QEMU write
    private const uint TableEntries = 512;
    private const ulong DescriptorSectors = 20;

    private readonly SafeFileHandle _file;
    private readonly VmdkSparseHeader _header;
    private readonly uint[] _directory;
    private readonly uint[] _table = new uint[TableEntries];
    private int _tableIndex = -1;
    private ulong _nextGrain;
    private ulong _position;
    private bool _finished;

    public VmdkStreamWriter(string path, string fileName, ulong sizeBytes)
    {
        ulong capacity = (sizeBytes + 511) / 512;
        _header = new VmdkSparseHeader
        {
            Version = 3,
            Flags = VmdkSparseHeader.FlagNewlineDetection | VmdkSparseHeader.FlagCompressedGrains | VmdkSparseHeader.FlagMarkers,
            Capacity = capacity,
            GrainSize = GrainSectors,
            DescriptorOffset = 1,
            DescriptorSize = DescriptorSectors,
            GrainTableEntries = TableEntries,
            GrainDirectoryOffset = VmdkSparseHeader.GrainDirectoryAtEnd,
            Overhead = GrainSectors,
            CompressAlgorithm = VmdkSparseHeader.CompressionDeflate,
        };
        if (_header.GrainDirectoryEntries > VmdkSparseHeader.MaxGrainDirectoryEntries)
        {
            throw new DiskImageException($"{path}: size {sizeBytes} is too large for a VMDK");
        }

        _directory = new uint[_header.GrainDirectoryEntries];
        var descriptor = new VmdkDescriptor
        {
            CreateType = "streamOptimized",
            Cid = (uint)Random.Shared.NextInt64(0, uint.MaxValue),
            Extents = [new VmdkExtentLine(VmdkExtentAccess.ReadWrite, capacity, VmdkExtentType.Sparse, fileName, 0)],
        };
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        try
        {
            byte[] start = new byte[GrainSectors * 512];
            _header.ToBytes().CopyTo(start, 0);
            byte[] text = Encoding.ASCII.GetBytes(descriptor.ToText(capacity * 512));
            if (text.Length > (int)(DescriptorSectors * 512))
            {
                throw new DiskImageException($"{path}: VMDK descriptor does not fit in {DescriptorSectors} sectors");
            }

            text.CopyTo(start, 512);
            Append(start);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public ulong Capacity => _header.Capacity;

    public static int GrainBytes => (int)(GrainSectors * 512);

    /// <summary>Compresses and appends grain <paramref name="grain"/>; the last grain of the disk may be short.</summary>
    public void WriteGrain(ulong grain, ReadOnlySpan<byte> data)
    {
        if (grain < _nextGrain || grain * GrainSectors >= _header.Capacity || data.Length > GrainBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(grain), "grains must be written once each, in ascending order, inside the disk");
        }

        int tableIndex = (int)(grain / TableEntries);
        if (tableIndex != _tableIndex)
        {
            WriteTable();
            _tableIndex = tableIndex;
        }

        using var packed = new MemoryStream(data.Length / 2 + 64);
        packed.Write(new byte[12]); // grain marker: LBA and compressed size, filled in below
        using (var zlib = new ZLibStream(packed, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }

        byte[] bytes = packed.ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, grain * GrainSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)(bytes.Length - 12));
        _table[grain % TableEntries] = CheckedSector(_position / 512);
        Append(bytes);
        _nextGrain = grain + 1;
    }

    /// <summary>Writes the last grain table, the directory, the footer and the end-of-stream marker, then fsyncs.</summary>
    public void Finish()
    {
        WriteTable();
        ulong directorySectors = (((ulong)_directory.Length * 4) + 511) / 512;
        Append(Marker(directorySectors, MarkerGrainDirectory));
        ulong directoryOffset = _position / 512;
        Append(Serialize(_directory, directorySectors));
        Append(Marker(1, MarkerFooter));
        Append((_header with { GrainDirectoryOffset = directoryOffset }).ToBytes());
        Append(Marker(0, MarkerEndOfStream));
        RandomAccess.FlushToDisk(_file);
        _finished = true;
    }

    public void Dispose() => _file.Dispose();

    private void WriteTable()
    {
        if (_tableIndex < 0 || _finished)
        {
            return;
        }

        // Tables with no grains are left out; their directory entry stays 0 (spec: allowed for stream-optimized).
        if (_table.AsSpan().ContainsAnyExcept(0u))
        {
            ulong sectors = (TableEntries * 4) / 512;
            Append(Marker(sectors, MarkerGrainTable));
            _directory[_tableIndex] = CheckedSector(_position / 512);
            Append(Serialize(_table, sectors));
        }

        Array.Clear(_table);
        _tableIndex = -1;
    }

    /// <summary>Appends <paramref name="data"/> padded to whole sectors.</summary>
    private void Append(byte[] data)
    {
        RandomAccess.Write(_file, data, (long)_position);
        _position += ((ulong)data.Length + 511) / 512 * 512;
        RandomAccess.SetLength(_file, (long)_position);
    }

    private static uint CheckedSector(ulong sector) =>
        sector < uint.MaxValue ? (uint)sector : throw new DiskImageException("VMDK stream passes 2 TiB, the limit of 32-bit grain table entries");

    private static byte[] Marker(ulong value, uint type)
    {
        byte[] marker = new byte[512];
        BinaryPrimitives.WriteUInt64LittleEndian(marker, value);
        BinaryPrimitives.WriteUInt32LittleEndian(marker.AsSpan(12), type);
        return marker;
    }

    private static byte[] Serialize(uint[] entries, ulong sectors)
    {
        byte[] bytes = new byte[sectors * 512];
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), entries[i]);
        }

        return bytes;
    }
}
