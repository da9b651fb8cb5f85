using System.Buffers.Binary;

namespace Vessel.Networking.Tests;

/// <summary>A frame the network delivered to the fake guest, with its headers decoded and every checksum verified.</summary>
internal sealed class ParsedFrame
{
    public ParsedFrame(byte[] frame)
    {
        Raw = frame;
        EtherType = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12));
        if (EtherType != 0x0800)
        {
            return;
        }
        Span<byte> ip = frame.AsSpan(14);
        int headerLength = (ip[0] & 0xF) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        Assert.Equal(0, GuestFrames.Checksum(ip[..headerLength]));
        Protocol = ip[9];
        Source = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        Destination = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        Transport = frame.AsSpan(14 + headerLength, total - headerLength).ToArray();
        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        FragmentOffset = (fragment & 0x1FFF) * 8;
        MoreFragments = (fragment & 0x2000) != 0;
        Identification = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (FragmentOffset != 0 || MoreFragments)
        {
            return; // a piece of a datagram: its transport header and checksum cover the reassembled whole
        }
        uint pseudo = GuestFrames.PseudoSum(Source, Destination, Protocol, Transport.Length);
        if (Protocol == 1)
        {
            Assert.Equal(0, GuestFrames.Checksum(Transport));
        }
        else if (Protocol is 6 or 17)
        {
            Assert.Equal(0, GuestFrames.Checksum(Transport, pseudo));
            SourcePort = BinaryPrimitives.ReadUInt16BigEndian(Transport);
            DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(Transport.AsSpan(2));
        }
        if (Protocol == 6)
        {
            Sequence = BinaryPrimitives.ReadUInt32BigEndian(Transport.AsSpan(4));
            Acknowledgment = BinaryPrimitives.ReadUInt32BigEndian(Transport.AsSpan(8));
            Flags = Transport[13];
            Window = BinaryPrimitives.ReadUInt16BigEndian(Transport.AsSpan(14));
            Payload = Transport[((Transport[12] >> 4) * 4)..];
        }
        else if (Protocol == 17)
        {
            Payload = Transport[8..];
        }
    }

    public byte[] Raw { get; }

    public int FragmentOffset { get; }

    public bool MoreFragments { get; }

    public ushort Identification { get; }

    public ushort EtherType { get; }

    public byte Protocol { get; }

    public uint Source { get; }

    public uint Destination { get; }

    public byte[] Transport { get; } = [];

    public ushort SourcePort { get; }

    public ushort DestinationPort { get; }

    public uint Sequence { get; }

    public uint Acknowledgment { get; }

    public byte Flags { get; }

    public ushort Window { get; }

    public byte[] Payload { get; } = [];

    public bool IsTcp(ushort guestPort) => Protocol == 6 && DestinationPort == guestPort;
}
