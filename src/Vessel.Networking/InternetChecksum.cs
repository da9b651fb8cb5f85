using System.Buffers.Binary;

namespace Vessel.Networking;

/// <summary>The ones'-complement sum of RFC 1071, used by IPv4, ICMP, UDP and TCP.</summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> as big-endian 16-bit words to a running 32-bit sum.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        int i = 0;
        // Accumulate into a 64-bit sum 4 bytes at a time; folding at the end keeps the result exact.
        ulong wide = sum;
        for (; i + 4 <= data.Length; i += 4)
        {
            wide += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        }
        for (; i + 2 <= data.Length; i += 2)
        {
            wide += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }
        if (i < data.Length)
        {
            wide += (uint)data[i] << 8;
        }
        while (wide >> 32 != 0)
        {
            wide = (wide & 0xFFFF_FFFF) + (wide >> 32);
        }
        return (uint)wide;
    }

    /// <summary>Folds a running sum to 16 bits and complements it: the value to store in a checksum field.</summary>
    public static ushort Finish(uint sum)
    {
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>The TCP/UDP pseudo-header sum (RFC 9293 §3.1, RFC 768): source, destination, protocol, length.</summary>
    public static uint PseudoHeader(uint sourceAddress, uint destinationAddress, byte protocol, int length)
    {
        ulong sum = (sourceAddress >> 16) + (sourceAddress & 0xFFFF) + (destinationAddress >> 16)
            + (destinationAddress & 0xFFFF) + protocol + (uint)length;
        return (uint)sum;
    }
}
