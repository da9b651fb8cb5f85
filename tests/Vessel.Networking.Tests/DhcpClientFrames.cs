using System.Buffers.Binary;

namespace Vessel.Networking.Tests;

/// <summary>DHCP client messages as a guest with a given MAC puts them on a switch, and readers for the replies.</summary>
internal static class DhcpClientFrames
{
    public const byte Discover = 1, Offer = 2, Request = 3, Ack = 5, Nak = 6, Release = 7, Inform = 8;

    public static byte[] Mac(byte id) => [0x52, 0x54, 0x00, 0xAB, 0x00, id];

    /// <summary>A whole frame: Ethernet from <paramref name="mac"/>, IPv4 from ciaddr (or 0) to <paramref name="destination"/>, UDP 68 → 67.</summary>
    public static byte[] Frame(byte[] mac, byte type, uint xid, uint requested = 0, uint serverId = 0, uint clientAddress = 0,
        uint destination = 0xFFFFFFFF, byte[]? destinationMac = null, bool broadcastFlag = false) =>
        Udp(mac, clientAddress, destination, Message(mac, type, xid, requested, serverId, clientAddress, broadcastFlag),
            destinationMac ?? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

    public static byte[] Message(byte[] mac, byte type, uint xid, uint requested = 0, uint serverId = 0, uint clientAddress = 0,
        bool broadcastFlag = false)
    {
        var m = new byte[300];
        m[0] = 1;
        m[1] = 1;
        m[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), xid);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(10), broadcastFlag ? (ushort)0x8000 : (ushort)0);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(12), clientAddress);
        mac.CopyTo(m, 28);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(236), 0x63825363);
        int p = 240;
        m[p++] = 53;
        m[p++] = 1;
        m[p++] = type;
        foreach ((byte code, uint value) in new[] { ((byte)50, requested), ((byte)54, serverId) })
        {
            if (value != 0)
            {
                m[p++] = code;
                m[p++] = 4;
                BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(p), value);
                p += 4;
            }
        }
        m[p] = 255;
        return m;
    }

    public static byte[] Udp(byte[] sourceMac, uint source, uint destination, byte[] payload, byte[] destinationMac)
    {
        var udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 68);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), 67);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp, 8);
        ushort checksum = GuestFrames.Checksum(udp, GuestFrames.PseudoSum(source, destination, 17, udp.Length));
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), checksum == 0 ? (ushort)0xFFFF : checksum);
        var frame = new byte[14 + 20 + udp.Length];
        destinationMac.CopyTo(frame, 0);
        sourceMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        Span<byte> ip = frame.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + udp.Length));
        ip[8] = 64;
        ip[9] = 17;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], destination);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], GuestFrames.Checksum(ip));
        udp.CopyTo(frame, 34);
        return frame;
    }

    public static byte[] ArpRequest(byte[] senderMac, uint senderIp, uint targetIp)
    {
        var frame = new byte[42];
        frame.AsSpan(0, 6).Fill(0xff);
        senderMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        Span<byte> arp = frame.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);
        senderMac.CopyTo(arp[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(arp[14..], senderIp);
        BinaryPrimitives.WriteUInt32BigEndian(arp[24..], targetIp);
        return frame;
    }

    public static Dictionary<byte, byte[]> Options(byte[] message)
    {
        var options = new Dictionary<byte, byte[]>();
        for (int i = 240; i < message.Length && message[i] != 255;)
        {
            if (message[i] == 0)
            {
                i++;
                continue;
            }
            options[message[i]] = message.AsSpan(i + 2, message[i + 1]).ToArray();
            i += 2 + message[i + 1];
        }
        return options;
    }

    public static byte Type(ParsedFrame reply) => Options(reply.Payload)[53][0];

    public static uint YourAddress(ParsedFrame reply) => BinaryPrimitives.ReadUInt32BigEndian(reply.Payload.AsSpan(16));

    public static uint Word(byte[] value) => BinaryPrimitives.ReadUInt32BigEndian(value);
}
