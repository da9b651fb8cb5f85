using static Vessel.Networking.Tests.DhcpClientFrames;

namespace Vessel.Networking.Tests;

/// <summary>The switch's DHCP server on its own: frames in, replies out, leases in a temporary file.</summary>
public sealed class SwitchDhcpServerTests : IDisposable
{
    private const uint Server = 0x0A000301; // 10.0.3.1
    private static readonly byte[] ServerMac = [0x52, 0x55, 0x0A, 0x00, 0x03, 0x01];
    private readonly string directory = Directory.CreateTempSubdirectory("vdhcp").FullName;
    private long now = 1_800_000_000;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string LeasesPath => Path.Combine(directory, "lan.leases");

    private SwitchDhcpServer NewServer(string subnet = "on", string? router = null)
    {
        var settings = SwitchDhcpSettings.Parse(subnet, router);
        return new SwitchDhcpServer(settings, new SwitchDhcpLeases(settings, LeasesPath, () => now));
    }

    private static ParsedFrame? Exchange(SwitchDhcpServer server, byte[] frame)
    {
        Assert.True(server.TryHandle(frame, out byte[]? reply));
        return reply is null ? null : new ParsedFrame(reply);
    }

    /// <summary>DISCOVER then REQUEST (SELECTING) as udhcpc does; returns the ACKed address.</summary>
    private static uint Lease(SwitchDhcpServer server, byte[] mac)
    {
        ParsedFrame offer = Exchange(server, Frame(mac, Discover, 1))!;
        Assert.Equal(Offer, Type(offer));
        uint offered = YourAddress(offer);
        ParsedFrame ack = Exchange(server, Frame(mac, Request, 2, requested: offered, serverId: Word(Options(offer.Payload)[54])))!;
        Assert.Equal(Ack, Type(ack));
        Assert.Equal(offered, YourAddress(ack));
        return offered;
    }

    [Fact]
    public void EachMacGetsItsOwnAddress_WithMaskServerLeaseAndBroadcast()
    {
        SwitchDhcpServer server = NewServer();
        ParsedFrame offer = Exchange(server, Frame(Mac(1), Discover, 0x1234))!;
        Assert.Equal(Offer, Type(offer));
        Assert.Equal(0x0A000302u, YourAddress(offer));
        Assert.Equal(Mac(1), offer.Raw[..6]); // unicast to chaddr and yiaddr (RFC 2131 §4.1)
        Assert.Equal(ServerMac, offer.Raw[6..12]);
        Assert.Equal(0x0A000302u, offer.Destination);
        Assert.Equal(Server, offer.Source);
        Assert.Equal((67, 68), (offer.SourcePort, offer.DestinationPort));
        Assert.Equal(0x1234u, Word(offer.Payload[4..8]));

        ParsedFrame ack = Exchange(server, Frame(Mac(1), Request, 0x1235, requested: 0x0A000302, serverId: Server))!;
        Dictionary<byte, byte[]> options = Options(ack.Payload);
        Assert.Equal(Ack, options[53][0]);
        Assert.Equal(Server, Word(options[54]));
        Assert.Equal(86400u, Word(options[51]));
        Assert.Equal(0xFFFFFF00u, Word(options[1]));
        Assert.Equal(0x0A0003FFu, Word(options[28]));
        Assert.False(options.ContainsKey(3)); // no router unless router= is given

        Assert.Equal(0x0A000303u, Lease(server, Mac(2)));
        Assert.Equal(0x0A000304u, Lease(server, Mac(3)));
        Assert.Equal(0x0A000302u, Lease(server, Mac(1))); // the same client keeps its address
        Assert.Equal((4L, 4L, 0L), (server.Offers, server.Acks, server.Naks));
    }

    [Fact]
    public void RouterOption_AndCustomSubnet_AreAnnounced()
    {
        SwitchDhcpServer server = NewServer("192.168.50.0/24", "192.168.50.254");
        ParsedFrame offer = Exchange(server, Frame(Mac(1), Discover, 7, broadcastFlag: true))!;
        Assert.Equal(0xC0A83202u, YourAddress(offer));
        Assert.Equal(0xFFFFFFFFu, offer.Destination); // the client asked for a broadcast reply
        Assert.All(offer.Raw[..6], b => Assert.Equal(0xff, b));
        Assert.Equal(0xC0A832FEu, Word(Options(offer.Payload)[3]));
        Assert.Equal(0xC0A83201u, Word(Options(offer.Payload)[54]));
    }

    [Fact]
    public void Leases_SurviveInTheFile_ForTheNextHub()
    {
        SwitchDhcpServer first = NewServer();
        uint a = Lease(first, Mac(1));
        uint b = Lease(first, Mac(2));
        Assert.Equal(2, File.ReadAllLines(LeasesPath).Length);
        Assert.DoesNotContain(Directory.GetFiles(directory), f => f.EndsWith(".tmp", StringComparison.Ordinal));

        SwitchDhcpServer next = NewServer(); // another process reads the same file
        Assert.Equal(a, next.Leases.AddressOf(new MacAddress(0x5254_00AB_0001)));
        // INIT-REBOOT (requested address, no server id) is confirmed; renewal by ciaddr too.
        Assert.Equal(Ack, Type(Exchange(next, Frame(Mac(2), Request, 9, requested: b))!));
        ParsedFrame renew = Exchange(next, Frame(Mac(1), Request, 10, clientAddress: a, destination: Server, destinationMac: ServerMac))!;
        Assert.Equal(Ack, Type(renew));
        Assert.Equal(a, renew.Destination); // a renewing client is answered at its address
        Assert.Equal(0x0A000304u, Lease(next, Mac(3))); // a new client does not get a remembered address
    }

    [Fact]
    public void Requests_ForAnotherClientsAddressOrAnotherSubnet_AreNaked()
    {
        SwitchDhcpServer server = NewServer();
        uint a = Lease(server, Mac(1));
        Lease(server, Mac(2));
        ParsedFrame nak = Exchange(server, Frame(Mac(2), Request, 3, requested: a))!;
        Assert.Equal(Nak, Type(nak));
        Assert.Equal(0xFFFFFFFFu, nak.Destination);
        Assert.Equal(0u, YourAddress(nak));
        Assert.Equal(Nak, Type(Exchange(server, Frame(Mac(3), Request, 4, requested: 0xC0A80005))!));
        // INIT-REBOOT from a client the server has no record of, for a free address: silence (RFC 2131 §4.3.2).
        Assert.Null(Exchange(server, Frame(Mac(4), Request, 5, requested: 0x0A000340)));
        // A client that chose another server's offer releases our reservation.
        uint offered = YourAddress(Exchange(server, Frame(Mac(5), Discover, 6))!);
        Assert.Null(Exchange(server, Frame(Mac(5), Request, 7, requested: 0x0A000909, serverId: 0x0A000909)));
        Assert.Equal(offered, YourAddress(Exchange(server, Frame(Mac(6), Discover, 8))!));
    }

    [Fact]
    public void FullPool_StaysSilent_UntilAnOfferExpiresOrALeaseIsReleased()
    {
        SwitchDhcpServer server = NewServer("10.7.0.0/29"); // .1 server, .2-.6 pool, .7 broadcast
        var leased = new List<uint>();
        for (byte i = 1; i <= 4; i++)
        {
            leased.Add(Lease(server, Mac(i)));
        }
        uint fifth = YourAddress(Exchange(server, Frame(Mac(5), Discover, 1))!); // offered, not yet requested
        Assert.Equal([0x0A070002u, 0x0A070003u, 0x0A070004u, 0x0A070005u], leased);
        Assert.Equal(0x0A070006u, fifth);

        Assert.Null(Exchange(server, Frame(Mac(6), Discover, 2)));
        Assert.Equal(1, server.PoolExhausted);
        Assert.Equal(Nak, Type(Exchange(server, Frame(Mac(6), Request, 3, requested: fifth, serverId: 0x0A070001))!));
        Assert.Equal((1L, 1L), (server.PoolExhausted, server.Naks)); // the address is another client's offer

        now += SwitchDhcpLeases.OfferHoldSeconds + 1; // the unrequested offer lapses
        Assert.Equal(fifth, Lease(server, Mac(6)));
        Assert.Null(Exchange(server, Frame(Mac(7), Discover, 4)));

        Assert.Null(Exchange(server, Frame(Mac(2), Release, 5, clientAddress: leased[1], serverId: 0x0A070001, destination: 0x0A070001)));
        Assert.Equal(leased[1], Lease(server, Mac(7)));
        Assert.Equal(leased[1], server.Leases.AddressOf(new MacAddress(0x5254_00AB_0007)));
    }

    [Fact]
    public void Arp_ForTheServerAddress_IsAnswered_OtherArpIsForwarded()
    {
        SwitchDhcpServer server = NewServer();
        Assert.True(server.TryHandle(ArpRequest(Mac(1), 0x0A000302, Server), out byte[]? reply));
        Assert.NotNull(reply);
        Assert.Equal(Mac(1), reply[..6]);
        Assert.Equal([0x08, 0x06], reply[12..14]);
        Assert.Equal([0, 2], reply[20..22]); // ARP reply
        Assert.Equal(ServerMac, reply[22..28]); // sender hardware address: the server's
        Assert.Equal(Server, Word(reply[28..32]));
        Assert.Equal(Mac(1), reply[32..38]);
        Assert.Equal(0x0A000302u, Word(reply[38..42]));

        Assert.False(server.TryHandle(ArpRequest(Mac(1), 0x0A000302, 0x0A000303), out reply));
        Assert.Null(reply);
    }

    [Fact]
    public void OrdinaryTraffic_IsNotTheServers()
    {
        SwitchDhcpServer server = NewServer();
        byte[] toOtherVm = Udp(Mac(1), 0x0A000302, 0x0A000303, new byte[20], Mac(2));
        Assert.False(server.TryHandle(toOtherVm, out _));
        byte[] dhcpReplyFromAnotherServer = Udp(Mac(1), 0x0A000302, 0xFFFFFFFF, new byte[300], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        dhcpReplyFromAnotherServer[37] = 68; // destination port 68: a client's business, not the server's
        Assert.False(server.TryHandle(dhcpReplyFromAnotherServer, out _));
        Assert.False(server.TryHandle(new byte[10], out _));
    }

    [Fact]
    public void MalformedMessages_AreCountedAndDropped_AndRandomFramesNeverThrow()
    {
        SwitchDhcpServer server = NewServer();
        byte[] good = Frame(Mac(1), Discover, 1);

        byte[] badCookie = (byte[])good.Clone();
        badCookie[42 + 236] ^= 0xFF;
        Fix(badCookie);
        byte[] optionOverrun = (byte[])good.Clone();
        optionOverrun[42 + 240 + 1] = 200; // option 53 claims 200 bytes
        Fix(optionOverrun);
        byte[] truncated = good[..(42 + 100)];
        truncated[16] = 0;
        truncated[17] = (byte)(truncated.Length - 14); // IPv4 total length matches the short frame
        truncated[38] = 0;
        truncated[39] = (byte)(truncated.Length - 34);
        Fix(truncated);
        byte[] badIpChecksum = (byte[])good.Clone();
        badIpChecksum[24] ^= 0x55;
        byte[] badUdpChecksum = (byte[])good.Clone();
        badUdpChecksum[40] ^= 0x55;
        byte[] multicastClient = Frame([0x01, 0, 0x5e, 0, 0, 1], Discover, 1);

        foreach (byte[] frame in new[] { badCookie, optionOverrun, truncated, badIpChecksum, badUdpChecksum, multicastClient })
        {
            Assert.True(server.TryHandle(frame, out byte[]? reply));
            Assert.Null(reply);
        }
        Assert.Equal(6, server.Malformed);

        var random = new Random(5);
        for (int i = 0; i < 20000; i++)
        {
            byte[] frame = (byte[])good.Clone();
            for (int flips = random.Next(1, 8); flips > 0; flips--)
            {
                frame[random.Next(frame.Length)] = (byte)random.Next(256);
            }
            server.TryHandle(frame.AsSpan(0, random.Next(frame.Length + 1)), out _);
        }
        Assert.Equal(Offer, Type(Exchange(server, Frame(Mac(9), Discover, 2))!));
    }

    /// <summary>Recomputes the UDP checksum after an edit so only the DHCP payload is wrong.</summary>
    private static void Fix(byte[] frame)
    {
        int udpLength = (frame[38] << 8) | frame[39];
        frame[40] = 0;
        frame[41] = 0;
        uint source = Word(frame[26..30]), destination = Word(frame[30..34]);
        ushort checksum = GuestFrames.Checksum(frame.AsSpan(34, udpLength), GuestFrames.PseudoSum(source, destination, 17, udpLength));
        frame[40] = (byte)(checksum >> 8);
        frame[41] = (byte)checksum;
        frame[24] = 0;
        frame[25] = 0;
        ushort ipChecksum = GuestFrames.Checksum(frame.AsSpan(14, 20));
        frame[24] = (byte)(ipChecksum >> 8);
        frame[25] = (byte)ipChecksum;
    }
}
