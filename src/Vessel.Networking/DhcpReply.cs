using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>
/// What a DHCP server says in one reply: the message type, the address it gives (yiaddr) and the options of
/// RFC 2132 it sends. Zero means "leave out" for every address and for the lease time.
/// </summary>
internal readonly record struct DhcpReply(
    byte Type,
    uint YourAddress,
    uint ServerAddress,
    uint LeaseSeconds = 0,
    uint SubnetMask = 0,
    uint Router = 0,
    uint DnsServer = 0,
    uint BroadcastAddress = 0)
{
    /// <summary>
    /// The length of every reply: RFC 1542 §2.1 has relays and old clients expect at least 300 octets, and the
    /// header, cookie and all options below (3 + 6 × 7 + 1 bytes) fit in it.
    /// </summary>
    public const int Length = 300;

    /// <summary>
    /// Writes a BOOTREPLY answering <paramref name="request"/> (RFC 2131 §4.3.1 table 3) into
    /// <paramref name="destination"/> (at least <see cref="Length"/> bytes), padded with zeros.
    /// </summary>
    public void Write(Span<byte> destination, in DhcpMessage request)
    {
        Span<byte> m = destination[..Length];
        m.Clear();
        m[0] = 2; // BOOTREPLY
        m[1] = 1;
        m[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(m[4..], request.TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(m[10..], request.Flags);
        if (Type != DhcpMessage.Nak)
        {
            // Table 3: a NAK carries neither yiaddr nor siaddr.
            BinaryPrimitives.WriteUInt32BigEndian(m[16..], YourAddress);
            BinaryPrimitives.WriteUInt32BigEndian(m[20..], ServerAddress);
        }
        BinaryPrimitives.WriteUInt32BigEndian(m[24..], request.RelayAddress);
        request.ClientHardwareAddress.Write(m[28..]);
        BinaryPrimitives.WriteUInt32BigEndian(m[DhcpMessage.FixedLength..], DhcpMessage.MagicCookie);
        Span<byte> o = m[(DhcpMessage.FixedLength + 4)..];
        int p = 0;
        o[p++] = 53;
        o[p++] = 1;
        o[p++] = Type;
        p = PutWord(o, p, 54, ServerAddress);
        if (Type != DhcpMessage.Nak)
        {
            p = PutWord(o, p, 51, LeaseSeconds);
            p = PutWord(o, p, 1, SubnetMask);
            p = PutWord(o, p, 3, Router);
            p = PutWord(o, p, 6, DnsServer);
            p = PutWord(o, p, 28, BroadcastAddress);
        }
        o[p] = 255;
    }

    private static int PutWord(Span<byte> options, int position, byte code, uint value)
    {
        if (value == 0)
        {
            return position;
        }
        options[position] = code;
        options[position + 1] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(options[(position + 2)..], value);
        return position + 6;
    }
}
