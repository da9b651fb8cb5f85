using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>
/// The fields of a client's DHCP message (RFC 2131 §2, options RFC 2132) that a server needs to answer it.
/// Shared by the user network's server and the switch's.
/// </summary>
internal readonly record struct DhcpMessage(
    uint TransactionId,
    ushort Flags,
    uint ClientAddress,
    uint RelayAddress,
    MacAddress ClientHardwareAddress,
    byte Type,
    uint RequestedAddress,
    uint ServerIdentifier)
{
    public const ushort ServerPort = 67;
    public const ushort ClientPort = 68;
    public const int FixedLength = 236; // BOOTP header up to and excluding the magic cookie (RFC 2131 §2)
    public const uint MagicCookie = 0x6382_5363;
    public const byte Discover = 1;
    public const byte Offer = 2;
    public const byte Request = 3;
    public const byte Decline = 4;
    public const byte Ack = 5;
    public const byte Nak = 6;
    public const byte Release = 7;
    public const byte Inform = 8;

    /// <summary>RFC 2131 §2: the leftmost bit of 'flags' asks the server to broadcast its reply.</summary>
    public bool WantsBroadcast => (Flags & 0x8000) != 0;

    /// <summary>
    /// Parses a BOOTREQUEST from Ethernet (htype 1, hlen 6) with the magic cookie and well-formed options.
    /// Returns false for anything else; the caller counts it as malformed.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out DhcpMessage parsed)
    {
        parsed = default;
        if (message.Length < FixedLength + 4 || message[0] != 1 || message[1] != 1 || message[2] != 6
            || BinaryPrimitives.ReadUInt32BigEndian(message[FixedLength..]) != MagicCookie)
        {
            return false;
        }
        byte type = 0;
        uint requestedAddress = 0;
        uint serverIdentifier = 0;
        ReadOnlySpan<byte> options = message[(FixedLength + 4)..];
        for (int i = 0; i < options.Length;)
        {
            byte code = options[i];
            if (code == 255)
            {
                break;
            }
            if (code == 0)
            {
                i++;
                continue;
            }
            if (i + 1 >= options.Length || i + 2 + options[i + 1] > options.Length)
            {
                return false; // an option runs past the end of the message
            }
            ReadOnlySpan<byte> value = options.Slice(i + 2, options[i + 1]);
            switch (code)
            {
                case 53 when value.Length == 1:
                    type = value[0];
                    break;
                case 50 when value.Length == 4:
                    requestedAddress = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case 54 when value.Length == 4:
                    serverIdentifier = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
            }
            i += 2 + value.Length;
        }
        parsed = new DhcpMessage(
            BinaryPrimitives.ReadUInt32BigEndian(message[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[10..]),
            BinaryPrimitives.ReadUInt32BigEndian(message[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(message[24..]),
            MacAddress.Read(message[28..]),
            type,
            requestedAddress,
            serverIdentifier);
        return true;
    }
}
