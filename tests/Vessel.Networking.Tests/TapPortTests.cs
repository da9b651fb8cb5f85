using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking.Tests;

public sealed class TapPortTests
{
    private static void RunIp(string arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ip {arguments}: {error}");
    }

    [RootWithTunFact]
    public void Tap_HostKernelArpsThroughThePort_AndDeliversAfterOurReply()
    {
        string name = $"vtst{Random.Shared.Next(0x10000):x4}";
        using var tap = new TapPort(name);
        var guest = new FakeGuest(tap);
        RunIp($"addr add 10.231.7.1/24 dev {name}");
        RunIp($"link set {name} up");

        using var client = new UdpClient();
        client.Send("to the guest"u8.ToArray(), new IPEndPoint(IPAddress.Parse("10.231.7.2"), 9999));
        ParsedFrame request = guest.Expect(f => f.EtherType == 0x0806 && BinaryPrimitives.ReadUInt32BigEndian(f.Raw.AsSpan(38)) == 0x0AE70702);
        byte[] hostMac = request.Raw[6..12];

        var reply = new byte[42];
        hostMac.CopyTo(reply, 0);
        GuestFrames.GuestMac.CopyTo(reply, 6);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(12), 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(16), 0x0800);
        reply[18] = 6;
        reply[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(20), 2);
        GuestFrames.GuestMac.CopyTo(reply, 22);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(28), 0x0AE70702);
        hostMac.CopyTo(reply, 32);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(38), 0x0AE70701);
        tap.Send(reply);

        ParsedFrame datagram = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 9999);
        Assert.Equal(GuestFrames.GuestMac, datagram.Raw[..6]);
        Assert.Equal("to the guest"u8.ToArray(), datagram.Payload);
        Assert.Equal(0, tap.DroppedFrames);
    }

    [Fact]
    public void Tap_BadInterfaceName_IsAClearError()
    {
        Assert.Throws<NetworkConfigurationException>(() => new TapPort("a/b"));
        Assert.Throws<NetworkConfigurationException>(() => new TapPort("much-too-long-name"));
    }

    [Fact]
    public void NetworkBackend_OpensEachKindAndRejectsUnknown()
    {
        using (IEthernetPort user = NetworkBackend.Open("user"))
        {
            Assert.IsType<UserNetwork>(user);
        }
        var error = Assert.Throws<NetworkConfigurationException>(() => NetworkBackend.Open("bridge:br0"));
        Assert.Contains("switch:NAME or tap:IFNAME", error.Message, StringComparison.Ordinal);
        Assert.Throws<NetworkConfigurationException>(() => NetworkBackend.Open("user,bogus=1"));
    }
}
