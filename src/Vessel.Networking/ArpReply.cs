using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>Writes an Ethernet frame carrying an ARP reply (RFC 826, IPv4 over Ethernet): "ownIp is at ownMac".</summary>
internal static class ArpReply
{
    public const int FrameLength = UserNetwork.EthernetHeaderLength + 28;

    public static void Write(Span<byte> frame, MacAddress ownMac, uint ownIp, MacAddress requesterMac, uint requesterIp)
    {
        requesterMac.Write(frame);
        ownMac.Write(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x0806);
        Span<byte> a = frame[UserNetwork.EthernetHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(a, 1);          // hardware type: Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], 0x0800); // protocol type: IPv4
        a[4] = 6;
        a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a[6..], 2);      // operation: reply
        ownMac.Write(a[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(a[14..], ownIp);
        requesterMac.Write(a[18..]);
        BinaryPrimitives.WriteUInt32BigEndian(a[24..], requesterIp);
    }
}
