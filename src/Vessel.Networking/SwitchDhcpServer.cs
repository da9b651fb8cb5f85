using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>
/// The DHCP server (RFC 2131, options RFC 2132) a switch hub runs when the switch has DHCP settings: each client
/// MAC gets its own address from the subnet, the server answers at .1 and answers ARP (RFC 826) for that address
/// so that unicast renewals reach it. It sees every frame before the hub forwards it and consumes the ones
/// addressed to it; guest input never throws.
/// </summary>
internal sealed class SwitchDhcpServer
{
    private const int EthernetHeaderLength = UserNetwork.EthernetHeaderLength;
    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeArp = 0x0806;
    private const int Ipv4HeaderLength = 20;
    private readonly SwitchDhcpLeases leases;
    private readonly MacAddress serverMac;
    private ushort ipIdentification;

    public SwitchDhcpServer(SwitchDhcpSettings settings, SwitchDhcpLeases leases)
    {
        Settings = settings;
        this.leases = leases;
        serverMac = UserNetworkAddresses.MacFor(settings.ServerValue);
    }

    public SwitchDhcpSettings Settings { get; }

    public SwitchDhcpLeases Leases => leases;

    public long Offers { get; private set; }

    public long Acks { get; private set; }

    public long Naks { get; private set; }

    /// <summary>DISCOVERs and REQUESTs that found no free address (the DISCOVER is not answered, the REQUEST is NAKed).</summary>
    public long PoolExhausted { get; private set; }

    /// <summary>Frames for the server that were not valid IPv4/UDP/DHCP; dropped.</summary>
    public long Malformed { get; private set; }

    /// <summary>Valid frames for the server that it does not answer (other message types, other protocols).</summary>
    public long Ignored { get; private set; }

    /// <summary>
    /// Looks at a frame entering the switch. Returns true if it was addressed to the DHCP server (the hub must not
    /// forward it), with the frame to send back to its sender in <paramref name="reply"/> (null when none is due).
    /// </summary>
    public bool TryHandle(ReadOnlySpan<byte> frame, out byte[]? reply)
    {
        reply = null;
        if (frame.Length < EthernetHeaderLength)
        {
            return false;
        }
        var destination = MacAddress.Read(frame);
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (etherType == EtherTypeArp)
        {
            return TryHandleArp(frame, out reply);
        }
        bool toServerMac = destination == serverMac;
        if (etherType != EtherTypeIpv4)
        {
            if (toServerMac)
            {
                Ignored++;
            }
            return toServerMac;
        }
        ReadOnlySpan<byte> ip = frame[EthernetHeaderLength..];
        if (!IsForServer(ip, toServerMac))
        {
            return false;
        }
        if (!TryGetUdpPayload(ip, out ReadOnlySpan<byte> payload, out bool isDhcp))
        {
            Malformed++;
            return true;
        }
        if (!isDhcp)
        {
            Ignored++;
            return true;
        }
        if (!DhcpMessage.TryParse(payload, out DhcpMessage request))
        {
            Malformed++;
            return true;
        }
        reply = Answer(request);
        return true;
    }

    // A frame is ours if sent to the server's MAC, or if it is UDP to port 67 at the broadcast or server address.
    private bool IsForServer(ReadOnlySpan<byte> ip, bool toServerMac)
    {
        if (toServerMac)
        {
            return true;
        }
        if (ip.Length < Ipv4HeaderLength + 4 || ip[0] >> 4 != 4 || ip[9] != UserNetwork.ProtocolUdp)
        {
            return false;
        }
        int headerLength = (ip[0] & 0xF) * 4;
        uint to = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        return headerLength >= Ipv4HeaderLength && ip.Length >= headerLength + 4
            && BinaryPrimitives.ReadUInt16BigEndian(ip[(headerLength + 2)..]) == DhcpMessage.ServerPort
            && (to == uint.MaxValue || to == Settings.ServerValue || to == Settings.BroadcastValue);
    }

    // RFC 791 header and RFC 768 datagram checks; fragments are refused (DHCP messages are a few hundred bytes).
    private static bool TryGetUdpPayload(ReadOnlySpan<byte> ip, out ReadOnlySpan<byte> payload, out bool isDhcp)
    {
        payload = default;
        isDhcp = false;
        if (ip.Length < Ipv4HeaderLength || ip[0] >> 4 != 4)
        {
            return false;
        }
        int headerLength = (ip[0] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (headerLength < Ipv4HeaderLength || totalLength < headerLength || totalLength > ip.Length
            || InternetChecksum.Compute(ip[..headerLength]) != 0
            || (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) != 0)
        {
            return false;
        }
        if (ip[9] != UserNetwork.ProtocolUdp)
        {
            return true; // valid IPv4, just not something the server answers
        }
        ReadOnlySpan<byte> udp = ip[headerLength..totalLength];
        if (udp.Length < 8 || BinaryPrimitives.ReadUInt16BigEndian(udp[4..]) is var length && (length < 8 || length > udp.Length))
        {
            return false;
        }
        udp = udp[..length];
        ushort checksum = BinaryPrimitives.ReadUInt16BigEndian(udp[6..]);
        uint pseudo = InternetChecksum.PseudoHeader(
            BinaryPrimitives.ReadUInt32BigEndian(ip[12..]), BinaryPrimitives.ReadUInt32BigEndian(ip[16..]), UserNetwork.ProtocolUdp, udp.Length);
        if (checksum != 0 && InternetChecksum.Finish(InternetChecksum.Add(pseudo, udp)) != 0)
        {
            return false; // RFC 768: zero means the sender computed none
        }
        isDhcp = BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) == DhcpMessage.ServerPort;
        payload = udp[8..];
        return true;
    }

    private byte[]? Answer(in DhcpMessage request)
    {
        MacAddress client = request.ClientHardwareAddress;
        if (client.IsMulticast || client.Value == 0)
        {
            Malformed++; // no client could own such an address
            return null;
        }
        switch (request.Type)
        {
            case DhcpMessage.Discover:
                uint offered = leases.Offer(client, request.RequestedAddress);
                if (offered == 0)
                {
                    PoolExhausted++;
                    return null; // RFC 2131 §4.3.1: a server with no address to offer stays silent
                }
                Offers++;
                return Build(request, Lease(DhcpMessage.Offer, offered));
            case DhcpMessage.Request:
                return AnswerRequest(request);
            case DhcpMessage.Release when request.ServerIdentifier == Settings.ServerValue:
                leases.Release(client, request.ClientAddress);
                return null;
            case DhcpMessage.Inform:
                Acks++;
                return Build(request, Lease(DhcpMessage.Ack, 0) with { LeaseSeconds = 0 });
            default:
                Ignored++;
                return null;
        }
    }

    // RFC 2131 §4.3.2: the client state is told apart by the server identifier, requested address and ciaddr.
    private byte[]? AnswerRequest(in DhcpMessage request)
    {
        MacAddress client = request.ClientHardwareAddress;
        if (request.ServerIdentifier != 0 && request.ServerIdentifier != Settings.ServerValue)
        {
            leases.Withdraw(client); // SELECTING another server's offer
            Ignored++;
            return null;
        }
        uint wanted;
        bool allowNew;
        if (request.ServerIdentifier != 0)
        {
            wanted = request.RequestedAddress; // SELECTING our offer
            allowNew = true;
        }
        else if (request.RequestedAddress != 0)
        {
            wanted = request.RequestedAddress; // INIT-REBOOT
            if (Settings.Contains(wanted) && leases.AddressOf(client) == 0 && !leases.IsHeldByOther(wanted, client))
            {
                Ignored++;
                return null; // "If the DHCP server has no record of this client, then it MUST remain silent"
            }
            allowNew = false;
        }
        else
        {
            wanted = request.ClientAddress; // RENEWING or REBINDING
            allowNew = true;
        }
        if (leases.Bind(client, wanted, allowNew))
        {
            Acks++;
            return Build(request, Lease(DhcpMessage.Ack, wanted));
        }
        if (allowNew && Settings.IsPoolAddress(wanted) && !leases.IsHeldByOther(wanted, client))
        {
            PoolExhausted++;
        }
        Naks++;
        return Build(request, new DhcpReply(DhcpMessage.Nak, 0, Settings.ServerValue));
    }

    private DhcpReply Lease(byte type, uint address) => new(
        type, address, Settings.ServerValue, SwitchDhcpLeases.LeaseSeconds, Settings.MaskValue, Settings.RouterValue,
        DnsServer: 0, Settings.BroadcastValue);

    /// <summary>
    /// Wraps a reply in UDP, IPv4 and Ethernet. RFC 2131 §4.1: to ciaddr if the client has one, else broadcast when
    /// the client asked for it or for a NAK, else to yiaddr at the client's hardware address.
    /// </summary>
    private byte[] Build(in DhcpMessage request, DhcpReply answer)
    {
        const int UdpLength = 8 + DhcpReply.Length;
        var frame = new byte[EthernetHeaderLength + Ipv4HeaderLength + UdpLength];
        Span<byte> ip = frame.AsSpan(EthernetHeaderLength, Ipv4HeaderLength);
        Span<byte> udp = frame.AsSpan(EthernetHeaderLength + Ipv4HeaderLength);
        answer.Write(udp[8..], request);
        bool broadcast = answer.Type == DhcpMessage.Nak || (request.ClientAddress == 0 && request.WantsBroadcast);
        uint destination = answer.Type != DhcpMessage.Nak && request.ClientAddress != 0 ? request.ClientAddress
            : broadcast ? uint.MaxValue : answer.YourAddress;
        BinaryPrimitives.WriteUInt16BigEndian(udp, DhcpMessage.ServerPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], DhcpMessage.ClientPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], UdpLength);
        ushort checksum = InternetChecksum.Finish(InternetChecksum.Add(
            InternetChecksum.PseudoHeader(Settings.ServerValue, destination, UserNetwork.ProtocolUdp, UdpLength), udp));
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
        WriteIpv4Header(ip, destination, UserNetwork.ProtocolUdp, Ipv4HeaderLength + UdpLength);
        (broadcast ? MacAddress.Broadcast : request.ClientHardwareAddress).Write(frame);
        serverMac.Write(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), EtherTypeIpv4);
        return frame;
    }

    private void WriteIpv4Header(Span<byte> ip, uint destination, byte protocol, int totalLength)
    {
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], ipIdentification++);
        ip[8] = 64;
        ip[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], Settings.ServerValue);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], destination);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip));
    }

    // RFC 826: a request for the server's address gets a reply from its MAC; other ARP is the LAN's business.
    private bool TryHandleArp(ReadOnlySpan<byte> frame, out byte[]? reply)
    {
        reply = null;
        ReadOnlySpan<byte> arp = frame[EthernetHeaderLength..];
        if (arp.Length < 28 || BinaryPrimitives.ReadUInt16BigEndian(arp) != 1 || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != EtherTypeIpv4
            || arp[4] != 6 || arp[5] != 4 || BinaryPrimitives.ReadUInt16BigEndian(arp[6..]) != 1
            || BinaryPrimitives.ReadUInt32BigEndian(arp[24..]) != Settings.ServerValue)
        {
            return false;
        }
        MacAddress senderMac = MacAddress.Read(arp[8..]);
        if (senderMac.IsMulticast)
        {
            Malformed++;
            return true;
        }
        reply = new byte[ArpReply.FrameLength];
        ArpReply.Write(reply, serverMac, Settings.ServerValue, senderMac, BinaryPrimitives.ReadUInt32BigEndian(arp[14..]));
        return true;
    }
}
