using System.Buffers.Binary;
using System.Text;

namespace Vessel.Storage.Vhd;

/// <summary>
/// The 512-byte "Hard Disk Footer" (VHD specification): big-endian fields, a "conectix" cookie and a one's-complement
/// checksum. Every VHD ends with it; dynamic and differencing disks also keep a copy at offset 0.
/// </summary>
internal sealed record VhdFooter
{
    public const int Length = 512;
    public const uint FormatVersion = 0x0001_0000;

    /// <summary>Bit 1 of "Features" is reserved and always set.</summary>
    public const uint FeaturesReserved = 0x2;

    /// <summary>"Data Offset" of a fixed disk: no further structure.</summary>
    public const ulong NoDataOffset = ulong.MaxValue;

    /// <summary>The VHD epoch: timestamps count seconds since 2000-01-01 00:00:00 UTC.</summary>
    public static readonly DateTime Epoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// Creator applications whose disks are sized by "Current Size" rather than the CHS geometry: Hyper-V ("win "),
    /// QEMU with force_size ("qem2"), Disk2vhd, XenConverter and XenServer — QEMU's block/vpc.c table, which also
    /// takes the current size whenever the geometry is the maximum.
    /// </summary>
    private static readonly string[] SizedByCurrentSize = ["win ", "qem2", "d2v ", "CTXS", "tap\0"];

    public static ReadOnlySpan<byte> Cookie => "conectix"u8;

    public uint Features { get; init; } = FeaturesReserved;

    public uint Version { get; init; } = FormatVersion;

    public ulong DataOffset { get; init; }

    public uint Timestamp { get; init; }

    public string CreatorApplication { get; init; } = "vssl";

    public uint CreatorVersion { get; init; } = 0x0001_0000;

    public string CreatorHostOs { get; init; } = "Wi2k";

    public ulong OriginalSize { get; init; }

    public ulong CurrentSize { get; init; }

    public VhdGeometry Geometry { get; init; }

    public uint DiskType { get; init; }

    public Guid UniqueId { get; init; }

    public byte SavedState { get; init; }

    /// <summary>
    /// The disk's size as QEMU computes it: the CHS geometry, unless the creator is known to use "Current Size" or the
    /// geometry is the maximum (so the geometry cannot express the size). A zero geometry also means "Current Size".
    /// </summary>
    public ulong VirtualSize
    {
        get
        {
            bool useGeometry = Array.IndexOf(SizedByCurrentSize, CreatorApplication) < 0 &&
                Geometry != VhdGeometry.Maximum && Geometry.Sectors != 0;
            return useGeometry ? Geometry.Sectors * 512 : CurrentSize / 512 * 512;
        }
    }

    /// <summary>The VHD checksum: one's complement of the byte sum, with the checksum field itself counted as zero.</summary>
    public static uint Checksum(ReadOnlySpan<byte> structure, int checksumOffset)
    {
        uint sum = 0;
        for (int i = 0; i < structure.Length; i++)
        {
            if (i < checksumOffset || i >= checksumOffset + 4)
            {
                sum += structure[i];
            }
        }

        return ~sum;
    }

    /// <summary>Why <paramref name="raw"/> is not a valid footer, or null when it is one.</summary>
    public static string? Problem(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < Length || !raw.StartsWith(Cookie))
        {
            return "no 'conectix' footer cookie";
        }

        uint stored = BinaryPrimitives.ReadUInt32BigEndian(raw[64..]);
        uint computed = Checksum(raw[..Length], 64);
        if (stored != computed)
        {
            return $"footer checksum is 0x{stored:x8} but the footer sums to 0x{computed:x8}";
        }

        return null;
    }

    /// <summary>Decodes a footer that <see cref="Problem"/> accepted.</summary>
    public static VhdFooter Decode(ReadOnlySpan<byte> raw) => new()
    {
        Features = BinaryPrimitives.ReadUInt32BigEndian(raw[8..]),
        Version = BinaryPrimitives.ReadUInt32BigEndian(raw[12..]),
        DataOffset = BinaryPrimitives.ReadUInt64BigEndian(raw[16..]),
        Timestamp = BinaryPrimitives.ReadUInt32BigEndian(raw[24..]),
        CreatorApplication = Encoding.Latin1.GetString(raw.Slice(28, 4)),
        CreatorVersion = BinaryPrimitives.ReadUInt32BigEndian(raw[32..]),
        CreatorHostOs = Encoding.Latin1.GetString(raw.Slice(36, 4)),
        OriginalSize = BinaryPrimitives.ReadUInt64BigEndian(raw[40..]),
        CurrentSize = BinaryPrimitives.ReadUInt64BigEndian(raw[48..]),
        Geometry = new VhdGeometry(BinaryPrimitives.ReadUInt16BigEndian(raw[56..]), raw[58], raw[59]),
        DiskType = BinaryPrimitives.ReadUInt32BigEndian(raw[60..]),
        UniqueId = new Guid(raw.Slice(68, 16), bigEndian: true),
        SavedState = raw[84],
    };

    public byte[] Encode()
    {
        byte[] raw = new byte[Length];
        var span = raw.AsSpan();
        Cookie.CopyTo(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], Features);
        BinaryPrimitives.WriteUInt32BigEndian(span[12..], Version);
        BinaryPrimitives.WriteUInt64BigEndian(span[16..], DataOffset);
        BinaryPrimitives.WriteUInt32BigEndian(span[24..], Timestamp);
        Encoding.Latin1.GetBytes(CreatorApplication.PadRight(4).AsSpan(0, 4), span.Slice(28, 4));
        BinaryPrimitives.WriteUInt32BigEndian(span[32..], CreatorVersion);
        Encoding.Latin1.GetBytes(CreatorHostOs.PadRight(4).AsSpan(0, 4), span.Slice(36, 4));
        BinaryPrimitives.WriteUInt64BigEndian(span[40..], OriginalSize);
        BinaryPrimitives.WriteUInt64BigEndian(span[48..], CurrentSize);
        BinaryPrimitives.WriteUInt16BigEndian(span[56..], Geometry.Cylinders);
        span[58] = Geometry.Heads;
        span[59] = Geometry.SectorsPerTrack;
        BinaryPrimitives.WriteUInt32BigEndian(span[60..], DiskType);
        UniqueId.TryWriteBytes(span.Slice(68, 16), bigEndian: true, out _);
        span[84] = SavedState;
        BinaryPrimitives.WriteUInt32BigEndian(span[64..], Checksum(span, 64));
        return raw;
    }

    /// <summary>Seconds since the VHD epoch for <paramref name="time"/> (clamped to the 32-bit field).</summary>
    public static uint TimestampOf(DateTime time)
    {
        double seconds = (time.ToUniversalTime() - Epoch).TotalSeconds;
        return (uint)Math.Clamp(seconds, 0, uint.MaxValue);
    }
}
