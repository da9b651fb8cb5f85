using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>
/// The built-in DHCP server (RFC 2131, options RFC 2132): leases 10.0.2.15 to the guest with the subnet mask,
/// router 10.0.2.2 and DNS server 10.0.2.3. There is one guest per network, so every client gets that address.
/// </summary>
internal sealed class DhcpServer
{
    public const ushort ServerPort = 67;
    public const ushort ClientPort = 68;
    private const int FixedLength = 236; // BOOTP header up to and excluding the magic cookie (RFC 2131 §2)
    private const uint MagicCookie = 0x6382_5363;
    private const uint LeaseSeconds = 86400;
    private const byte Discover = 1;
    private const byte Offer = 2;
    private const byte Request = 3;
    private const byte Ack = 5;
    private const byte Nak = 6;
    private const byte Release = 7;
    private const byte Inform = 8;
    private readonly UserNetwork network;

    public DhcpServer(UserNetwork network) => this.network = network;

    public void Handle(MacAddress sourceMac, ReadOnlySpan<byte> message)
    {
        if (message.Length < FixedLength + 4 || message[0] != 1 || message[1] != 1 || message[2] != 6
            || BinaryPrimitives.ReadUInt32BigEndian(message[FixedLength..]) != MagicCookie)
        {
            network.CountMalformed();
            return;
        }
        byte type = 0;
        uint requestedAddress = 0;
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
                network.CountMalformed();
                return;
            }
            ReadOnlySpan<byte> value = options.Slice(i + 2, options[i + 1]);
            if (code == 53 && value.Length == 1)
            {
                type = value[0];
            }
            else if (code == 50 && value.Length == 4)
            {
                requestedAddress = BinaryPrimitives.ReadUInt32BigEndian(value);
            }
            i += 2 + value.Length;
        }
        MacAddress clientMac = MacAddress.Read(message[28..]);
        uint clientAddress = BinaryPrimitives.ReadUInt32BigEndian(message[12..]);
        switch (type)
        {
            case Discover:
                Reply(message, clientMac, Offer, UserNetworkAddresses.GuestValue, withLease: true);
                break;
            case Request:
                // RFC 2131 §4.3.2: requested-IP in SELECTING/INIT-REBOOT, ciaddr in RENEWING/REBINDING.
                uint wanted = requestedAddress != 0 ? requestedAddress : clientAddress;
                if (wanted == UserNetworkAddresses.GuestValue)
                {
                    network.LearnGuestMac(clientMac);
                    Reply(message, clientMac, Ack, UserNetworkAddresses.GuestValue, withLease: true);
                }
                else
                {
                    Reply(message, clientMac, Nak, 0, withLease: false);
                }
                break;
            case Inform:
                Reply(message, clientMac, Ack, 0, withLease: false);
                break;
            case Release:
                break;
            default:
                network.CountUnsupported();
                break;
        }
    }

    private void Reply(ReadOnlySpan<byte> request, MacAddress clientMac, byte type, uint yourAddress, bool withLease)
    {
        const int OptionsSpace = 64;
        int length = 8 + FixedLength + 4 + OptionsSpace;
        byte[] frame = UserNetwork.RentFrame(length, out Span<byte> udp);
        try
        {
            udp.Clear();
            BinaryPrimitives.WriteUInt16BigEndian(udp, ServerPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], ClientPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)length);
            Span<byte> m = udp[8..];
            m[0] = 2; // BOOTREPLY
            m[1] = 1;
            m[2] = 6;
            request.Slice(4, 4).CopyTo(m[4..]); // xid
            request.Slice(10, 2).CopyTo(m[10..]); // flags
            if (type != Nak)
            {
                BinaryPrimitives.WriteUInt32BigEndian(m[16..], yourAddress);
                BinaryPrimitives.WriteUInt32BigEndian(m[20..], UserNetworkAddresses.GatewayValue);
            }
            request.Slice(24, 4).CopyTo(m[24..]); // giaddr
            request.Slice(28, 16).CopyTo(m[28..]); // chaddr
            BinaryPrimitives.WriteUInt32BigEndian(m[FixedLength..], MagicCookie);
            Span<byte> o = m[(FixedLength + 4)..];
            int p = 0;
            o[p++] = 53;
            o[p++] = 1;
            o[p++] = type;
            p = PutAddress(o, p, 54, UserNetworkAddresses.GatewayValue);
            if (type != Nak)
            {
                if (withLease)
                {
                    p = PutAddress(o, p, 51, LeaseSeconds);
                }
                p = PutAddress(o, p, 1, UserNetworkAddresses.NetmaskValue);
                p = PutAddress(o, p, 3, UserNetworkAddresses.GatewayValue);
                p = PutAddress(o, p, 6, UserNetworkAddresses.DnsValue);
                p = PutAddress(o, p, 28, UserNetworkAddresses.BroadcastValue);
            }
            o[p] = 255;
            // Replies go to the broadcast address and the client's own MAC: the client has no address yet (RFC 2131 §4.1).
            network.TransmitIpv4(frame, UserNetworkAddresses.GatewayValue, 0xFFFF_FFFF, UserNetwork.ProtocolUdp, length, clientMac);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static int PutAddress(Span<byte> options, int position, byte code, uint value)
    {
        options[position] = code;
        options[position + 1] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(options[(position + 2)..], value);
        return position + 6;
    }
}
