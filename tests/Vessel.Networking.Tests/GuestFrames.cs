using System.Buffers.Binary;

namespace Vessel.Networking.Tests;

/// <summary>Builds and parses raw Ethernet/IPv4/UDP/TCP/ICMP frames the way a Linux guest without offloads sends them.</summary>
internal static class GuestFrames
{
    public static readonly byte[] GuestMac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    public static readonly byte[] GatewayMac = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];
    public const uint Guest = 0x0A00020F;
    public const uint Gateway = 0x0A000202;
    public const uint Dns = 0x0A000203;

    // Written independently of the production checksum code so each checks the other.
    public static ushort Checksum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        uint sum = initial;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (uint)(data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0));
        }
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    public static uint PseudoSum(uint source, uint destination, byte protocol, int length) =>
        (source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF) + protocol + (uint)length;

    public static byte[] Ethernet(ReadOnlySpan<byte> destinationMac, ushort etherType, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[14 + payload.Length];
        destinationMac.CopyTo(frame);
        GuestMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        payload.CopyTo(frame.AsSpan(14));
        return frame;
    }

    public static byte[] Ipv4(uint source, uint destination, byte protocol, ReadOnlySpan<byte> transport, ReadOnlySpan<byte> destinationMac = default)
    {
        var ip = new byte[20 + transport.Length];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), 0x1234);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(6), 0x4000);
        ip[8] = 64;
        ip[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(ip.AsSpan(12), source);
        BinaryPrimitives.WriteUInt32BigEndian(ip.AsSpan(16), destination);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum(ip.AsSpan(0, 20)));
        transport.CopyTo(ip.AsSpan(20));
        return Ethernet(destinationMac.IsEmpty ? GatewayMac : destinationMac, 0x0800, ip);
    }

    public static byte[] Udp(uint source, ushort sourcePort, uint destination, ushort destinationPort, ReadOnlySpan<byte> payload,
        ReadOnlySpan<byte> destinationMac = default)
    {
        var udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp.AsSpan(8));
        ushort checksum = Checksum(udp, PseudoSum(source, destination, 17, udp.Length));
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), checksum == 0 ? (ushort)0xFFFF : checksum);
        return Ipv4(source, destination, 17, udp, destinationMac);
    }

    public static byte[] Tcp(uint source, ushort sourcePort, uint destination, ushort destinationPort, uint sequence, uint acknowledgment,
        byte flags, ushort window, ReadOnlySpan<byte> payload, int mss = 0)
    {
        int headerLength = mss > 0 ? 24 : 20;
        var tcp = new byte[headerLength + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), acknowledgment);
        tcp[12] = (byte)(headerLength / 4 << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), window);
        if (mss > 0)
        {
            tcp[20] = 2;
            tcp[21] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(22), (ushort)mss);
        }
        payload.CopyTo(tcp.AsSpan(headerLength));
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(16), Checksum(tcp, PseudoSum(source, destination, 6, tcp.Length)));
        return Ipv4(source, destination, 6, tcp);
    }

    public static byte[] IcmpEcho(uint source, uint destination, ushort id, ushort sequence, ReadOnlySpan<byte> data)
    {
        var icmp = new byte[8 + data.Length];
        icmp[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), sequence);
        data.CopyTo(icmp.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum(icmp));
        return Ipv4(source, destination, 1, icmp);
    }

    public static byte[] ArpRequest(uint senderIp, uint targetIp)
    {
        var arp = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(2), 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), 1);
        GuestMac.CopyTo(arp, 8);
        BinaryPrimitives.WriteUInt32BigEndian(arp.AsSpan(14), senderIp);
        BinaryPrimitives.WriteUInt32BigEndian(arp.AsSpan(24), targetIp);
        return Ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0x0806, arp);
    }
}
