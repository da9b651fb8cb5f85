using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>
/// The built-in DHCP server (RFC 2131, options RFC 2132): leases 10.0.2.15 to the guest with the subnet mask,
/// router 10.0.2.2 and DNS server 10.0.2.3. There is one guest per network, so every client gets that address.
/// </summary>
internal sealed class DhcpServer
{
    public const ushort ServerPort = DhcpMessage.ServerPort;
    public const ushort ClientPort = DhcpMessage.ClientPort;
    private const uint LeaseSeconds = 86400;
    private readonly UserNetwork network;

    public DhcpServer(UserNetwork network) => this.network = network;

    public void Handle(MacAddress sourceMac, ReadOnlySpan<byte> message)
    {
        if (!DhcpMessage.TryParse(message, out DhcpMessage request))
        {
            network.CountMalformed();
            return;
        }
        switch (request.Type)
        {
            case DhcpMessage.Discover:
                Reply(request, Lease(DhcpMessage.Offer));
                break;
            case DhcpMessage.Request:
                // RFC 2131 §4.3.2: requested-IP in SELECTING/INIT-REBOOT, ciaddr in RENEWING/REBINDING.
                uint wanted = request.RequestedAddress != 0 ? request.RequestedAddress : request.ClientAddress;
                if (wanted == UserNetworkAddresses.GuestValue)
                {
                    network.LearnGuestMac(request.ClientHardwareAddress);
                    Reply(request, Lease(DhcpMessage.Ack));
                }
                else
                {
                    Reply(request, new DhcpReply(DhcpMessage.Nak, 0, UserNetworkAddresses.GatewayValue));
                }
                break;
            case DhcpMessage.Inform:
                Reply(request, Lease(DhcpMessage.Ack) with { YourAddress = 0, LeaseSeconds = 0 });
                break;
            case DhcpMessage.Release:
                break;
            default:
                network.CountUnsupported();
                break;
        }
    }

    private static DhcpReply Lease(byte type) => new(
        type,
        UserNetworkAddresses.GuestValue,
        UserNetworkAddresses.GatewayValue,
        LeaseSeconds,
        UserNetworkAddresses.NetmaskValue,
        UserNetworkAddresses.GatewayValue,
        UserNetworkAddresses.DnsValue,
        UserNetworkAddresses.BroadcastValue);

    private void Reply(in DhcpMessage request, DhcpReply reply)
    {
        const int Length = 8 + DhcpReply.Length;
        byte[] frame = UserNetwork.RentFrame(Length, out Span<byte> udp);
        try
        {
            udp[..8].Clear();
            BinaryPrimitives.WriteUInt16BigEndian(udp, ServerPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], ClientPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], Length);
            reply.Write(udp[8..], request);
            // Replies go to the broadcast address and the client's own MAC: the client has no address yet (RFC 2131 §4.1).
            network.TransmitIpv4(frame, UserNetworkAddresses.GatewayValue, 0xFFFF_FFFF, UserNetwork.ProtocolUdp, Length, request.ClientHardwareAddress);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(frame);
        }
    }
}
