using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>The parsed header of a TCP segment from the guest (RFC 9293 §3.1).</summary>
internal readonly ref struct TcpSegment
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;

    private TcpSegment(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        SourcePort = BinaryPrimitives.ReadUInt16BigEndian(header);
        DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        Sequence = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        Acknowledgment = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        Flags = (byte)(header[13] & 0x3F);
        Window = BinaryPrimitives.ReadUInt16BigEndian(header[14..]);
        Payload = payload;
        Mss = ReadMss(header[20..]);
    }

    public ushort SourcePort { get; }

    public ushort DestinationPort { get; }

    public uint Sequence { get; }

    public uint Acknowledgment { get; }

    public byte Flags { get; }

    public ushort Window { get; }

    /// <summary>The MSS option's value, or 0 when absent.</summary>
    public int Mss { get; }

    public ReadOnlySpan<byte> Payload { get; }

    public bool Has(byte flag) => (Flags & flag) != 0;

    /// <summary>Sequence space the segment occupies: data plus one each for SYN and FIN.</summary>
    public int SequenceLength => Payload.Length + (Has(Syn) ? 1 : 0) + (Has(Fin) ? 1 : 0);

    public static bool TryParse(ReadOnlySpan<byte> segment, out TcpSegment parsed)
    {
        parsed = default;
        if (segment.Length < 20)
        {
            return false;
        }
        int dataOffset = (segment[12] >> 4) * 4;
        if (dataOffset < 20 || dataOffset > segment.Length)
        {
            return false;
        }
        parsed = new TcpSegment(segment[..dataOffset], segment[dataOffset..]);
        return true;
    }

    // RFC 9293 §3.2: options are kind/length pairs, except End (0) and NOP (1); a malformed list is ignored.
    private static int ReadMss(ReadOnlySpan<byte> options)
    {
        for (int i = 0; i < options.Length;)
        {
            byte kind = options[i];
            if (kind == 0)
            {
                break;
            }
            if (kind == 1)
            {
                i++;
                continue;
            }
            if (i + 1 >= options.Length || options[i + 1] < 2 || i + options[i + 1] > options.Length)
            {
                break;
            }
            if (kind == 2 && options[i + 1] == 4)
            {
                return BinaryPrimitives.ReadUInt16BigEndian(options[(i + 2)..]);
            }
            i += options[i + 1];
        }
        return 0;
    }
}
