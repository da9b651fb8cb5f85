using System.Net;

namespace Vessel.Networking;

/// <summary>The fixed addressing of the user-mode network, the same as QEMU's slirp so guest configurations carry over.</summary>
public static class UserNetworkAddresses
{
    public static readonly IPAddress Network = IPAddress.Parse("10.0.2.0");
    public static readonly IPAddress Netmask = IPAddress.Parse("255.255.255.0");
    public static readonly IPAddress Gateway = IPAddress.Parse("10.0.2.2");
    public static readonly IPAddress Dns = IPAddress.Parse("10.0.2.3");
    public static readonly IPAddress Guest = IPAddress.Parse("10.0.2.15");

    internal const uint NetworkValue = 0x0A00_0200;
    internal const uint NetmaskValue = 0xFFFF_FF00;
    internal const uint GatewayValue = 0x0A00_0202;
    internal const uint DnsValue = 0x0A00_0203;
    internal const uint GuestValue = 0x0A00_020F;
    internal const uint BroadcastValue = 0x0A00_02FF;

    /// <summary>The MAC the network answers with for one of its own addresses: 52:55 followed by the IPv4 address (slirp's scheme).</summary>
    internal static MacAddress MacFor(uint address) =>
        new(0x5255_0000_0000UL | address);

    internal static uint ToValue(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (!address.TryWriteBytes(bytes, out int written) || written != 4)
        {
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        }
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    internal static IPAddress FromValue(uint value) =>
        new(new[] { (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value });
}
