using static Vessel.Networking.Tests.DhcpClientFrames;

namespace Vessel.Networking.Tests;

/// <summary>DHCP on a real switch: ports in this process, the hub's sockets and the settings and lease files.</summary>
public sealed class SwitchDhcpPortTests : IDisposable
{
    private const uint Server = 0x0A000301;
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"vsd-{Guid.NewGuid():N}"[..16]);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private SwitchPort Connect(string specification) => new(SwitchPortOptions.Parse(specification), directory);

    private static uint Lease(FakeGuest guest, byte[] mac, uint xid)
    {
        guest.Send(Frame(mac, Discover, xid));
        ParsedFrame offer = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 68 && Type(f) == Offer);
        uint address = YourAddress(offer);
        guest.Send(Frame(mac, Request, xid + 1, requested: address, serverId: Word(Options(offer.Payload)[54])));
        ParsedFrame ack = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 68);
        Assert.Equal(Ack, Type(ack));
        return address;
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            Thread.Sleep(100);
        }
    }

    [Fact]
    public void VmsOnADhcpSwitch_GetTheirOwnAddresses_AndKeepThemWhenTheHubMoves()
    {
        SwitchPort first = Connect("lan,dhcp=on");
        using SwitchPort second = Connect("lan"); // a port that does not ask still gets the switch's DHCP
        Assert.True(first.IsHub);
        var ga = new FakeGuest(first);
        var gb = new FakeGuest(second);
        Thread.Sleep(100);
        uint a = Lease(ga, Mac(1), 100);
        uint b = Lease(gb, Mac(2), 200);
        Assert.Equal((0x0A000302u, 0x0A000303u), (a, b));
        Assert.True(File.Exists(Path.Combine(directory, "lan.leases")));

        // The DHCP exchange stays between a VM and the server: the other VM saw none of it.
        while (gb.TryNext(TimeSpan.FromMilliseconds(200)) is { } seen)
        {
            Assert.False(seen.Protocol == 17 && seen.DestinationPort is 67 or 68, "DHCP leaked to another port");
        }

        first.Dispose();
        WaitUntil(() => second.IsHub, "the remaining port did not take over the hub");
        Assert.NotNull(second.HubDhcp);
        // After the move, the VM that lost its hub renews (unicast, via ARP for the server) and keeps its address.
        gb.Send(ArpRequest(Mac(2), b, Server));
        ParsedFrame arp = gb.Expect(f => f.EtherType == 0x0806);
        byte[] serverMac = arp.Raw[22..28];
        gb.Send(Frame(Mac(2), Request, 300, clientAddress: b, destination: Server, destinationMac: serverMac));
        ParsedFrame renewed = gb.Expect(f => f.Protocol == 17 && f.DestinationPort == 68);
        Assert.Equal((Ack, b, b), (Type(renewed), YourAddress(renewed), renewed.Destination));
        // First's client comes back (INIT-REBOOT) and is confirmed its address; a new client gets a fresh one.
        gb.Send(Frame(Mac(1), Request, 400, requested: a));
        Assert.Equal(Ack, Type(gb.Expect(f => f.Protocol == 17 && f.DestinationPort == 68)));
        Assert.Equal(0x0A000304u, Lease(gb, Mac(3), 500));
        Assert.Equal(0, second.HubDhcp!.Malformed);
    }

    [Fact]
    public void ConflictingDhcpSettings_AreRefused_MatchingOnesJoin()
    {
        using SwitchPort first = Connect("lab,dhcp=10.9.0.0/24,router=10.9.0.254");
        using SwitchPort same = Connect("lab,dhcp=10.9.0.0/24,router=10.9.0.254");
        using SwitchPort plain = Connect("lab");
        var error = Assert.Throws<NetworkConfigurationException>(() => Connect("lab,dhcp=on"));
        Assert.Contains("already serves DHCP with dhcp=10.9.0.0/24,router=10.9.0.254", error.Message, StringComparison.Ordinal);
        Assert.Contains("dhcp=10.0.3.0/24", error.Message, StringComparison.Ordinal);
        Assert.Equal("subnet=10.9.0.0/24\nrouter=10.9.0.254\n", File.ReadAllText(Path.Combine(directory, "lab.dhcp")));
    }

    [Fact]
    public void DhcpAddedToARunningSwitch_IsServedWithinASecond_AndAFreshSwitchForgetsOldSettings()
    {
        using (SwitchPort hub = Connect("grow"))
        {
            var guest = new FakeGuest(hub);
            Assert.Null(hub.HubDhcp);
            using SwitchPort asking = Connect("grow,dhcp=172.20.0.0/16");
            WaitUntil(() => hub.HubDhcp != null, "the hub did not pick up the DHCP settings");
            Assert.Equal(0xAC140002u, Lease(guest, Mac(1), 1));
        }
        Assert.True(File.Exists(Path.Combine(directory, "grow.dhcp")));
        using SwitchPort again = Connect("grow"); // nobody on the switch: the earlier run's settings go
        Assert.False(File.Exists(Path.Combine(directory, "grow.dhcp")));
        Assert.Null(again.HubDhcp);
    }
}
