using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Vessel.Networking.Tests;

public sealed class UserNetworkTests
{
    private const byte Syn = 2, Rst = 4, Ack = 16;

    private static byte[] DhcpMessage(byte type, uint requested, uint xid)
    {
        var m = new byte[300];
        m[0] = 1;
        m[1] = 1;
        m[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), xid);
        GuestFrames.GuestMac.CopyTo(m, 28);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(236), 0x63825363);
        int p = 240;
        m[p++] = 53;
        m[p++] = 1;
        m[p++] = type;
        if (requested != 0)
        {
            m[p++] = 50;
            m[p++] = 4;
            BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(p), requested);
            p += 4;
        }
        m[p] = 255;
        return m;
    }

    private static Dictionary<byte, byte[]> DhcpOptions(byte[] message)
    {
        var options = new Dictionary<byte, byte[]>();
        for (int i = 240; i < message.Length && message[i] != 255;)
        {
            options[message[i]] = message.AsSpan(i + 2, message[i + 1]).ToArray();
            i += 2 + message[i + 1];
        }
        return options;
    }

    [Fact]
    public void Dhcp_DiscoverThenRequest_LeasesGuestAddressWithRouterDnsMaskAndLease()
    {
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        byte[] broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

        guest.Send(GuestFrames.Udp(0, 68, 0xFFFFFFFF, 67, DhcpMessage(1, 0, 0xCAFE), broadcast));
        ParsedFrame offer = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 68);
        Assert.Equal(GuestFrames.GuestMac, offer.Raw[..6]);
        Assert.Equal(GuestFrames.Gateway, offer.Source);
        Assert.Equal(2, offer.Payload[0]);
        Assert.Equal(0xCAFEu, BinaryPrimitives.ReadUInt32BigEndian(offer.Payload.AsSpan(4)));
        Assert.Equal(GuestFrames.Guest, BinaryPrimitives.ReadUInt32BigEndian(offer.Payload.AsSpan(16)));
        Assert.Equal([2], DhcpOptions(offer.Payload)[53]);

        guest.Send(GuestFrames.Udp(0, 68, 0xFFFFFFFF, 67, DhcpMessage(3, GuestFrames.Guest, 0xCAFF), broadcast));
        ParsedFrame ack = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 68);
        Dictionary<byte, byte[]> options = DhcpOptions(ack.Payload);
        Assert.Equal([5], options[53]);
        Assert.Equal(GuestFrames.Guest, BinaryPrimitives.ReadUInt32BigEndian(ack.Payload.AsSpan(16)));
        Assert.Equal([255, 255, 255, 0], options[1]);
        Assert.Equal([10, 0, 2, 2], options[3]);
        Assert.Equal([10, 0, 2, 3], options[6]);
        Assert.Equal([10, 0, 2, 2], options[54]);
        Assert.Equal(86400u, BinaryPrimitives.ReadUInt32BigEndian(options[51]));

        guest.Send(GuestFrames.Udp(0, 68, 0xFFFFFFFF, 67, DhcpMessage(3, 0x0A000263, 0xCB00), broadcast));
        ParsedFrame nak = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 68);
        Assert.Equal([6], DhcpOptions(nak.Payload)[53]);
    }

    [Fact]
    public void Arp_ForGatewayAndDns_RepliesWithSlirpMacs()
    {
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        guest.Send(GuestFrames.ArpRequest(GuestFrames.Guest, GuestFrames.Gateway));
        ParsedFrame reply = guest.Expect(f => f.EtherType == 0x0806);
        Assert.Equal(GuestFrames.GuestMac, reply.Raw[..6]);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(reply.Raw.AsSpan(20)));
        Assert.Equal(GuestFrames.GatewayMac, reply.Raw[22..28]);
        Assert.Equal(GuestFrames.Gateway, BinaryPrimitives.ReadUInt32BigEndian(reply.Raw.AsSpan(28)));
        Assert.Equal(GuestFrames.GuestMac, reply.Raw[32..38]);

        guest.Send(GuestFrames.ArpRequest(GuestFrames.Guest, GuestFrames.Dns));
        ParsedFrame dns = guest.Expect(f => f.EtherType == 0x0806);
        Assert.Equal(new byte[] { 0x52, 0x55, 10, 0, 2, 3 }, dns.Raw[22..28]);

        guest.Send(GuestFrames.ArpRequest(GuestFrames.Guest, 0x0A000263));
        Assert.Null(guest.TryNext(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void Ping_GatewayAndDns_EchoRepliesCarryTheSameData()
    {
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        byte[] data = RandomNumberGenerator.GetBytes(56);
        foreach (uint target in new[] { GuestFrames.Gateway, GuestFrames.Dns })
        {
            guest.Send(GuestFrames.IcmpEcho(GuestFrames.Guest, target, 77, 3, data));
            ParsedFrame reply = guest.Expect(f => f.Protocol == 1);
            Assert.Equal(0, reply.Transport[0]);
            Assert.Equal(target, reply.Source);
            Assert.Equal(GuestFrames.Guest, reply.Destination);
            Assert.Equal(77, BinaryPrimitives.ReadUInt16BigEndian(reply.Transport.AsSpan(4)));
            Assert.Equal(data, reply.Transport[8..]);
        }
    }

    [Fact]
    public void Udp_ToGateway_ReachesHostLoopbackAndReplyReturns()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        ushort port = (ushort)((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);

        guest.Send(GuestFrames.Udp(GuestFrames.Guest, 40000, GuestFrames.Gateway, port, "hello host"u8));
        IPEndPoint from = new(IPAddress.Any, 0);
        server.Client.ReceiveTimeout = 5000;
        byte[] got = server.Receive(ref from);
        Assert.Equal("hello host"u8.ToArray(), got);
        Assert.Equal(IPAddress.Loopback, from.Address);

        server.Send("hello guest"u8.ToArray(), from);
        ParsedFrame reply = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 40000);
        Assert.Equal(GuestFrames.Gateway, reply.Source);
        Assert.Equal(port, reply.SourcePort);
        Assert.Equal("hello guest"u8.ToArray(), reply.Payload);
        Assert.Equal(1, network.Statistics.UdpFlows);
    }

    [Fact]
    public void Udp_ReplyLargerThanTheMtu_ArrivesAsIpFragmentsThatReassemble()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        ushort port = (ushort)((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        guest.Send(GuestFrames.Udp(GuestFrames.Guest, 40001, GuestFrames.Gateway, port, "big one please"u8));
        IPEndPoint from = new(IPAddress.Any, 0);
        server.Client.ReceiveTimeout = 5000;
        server.Receive(ref from);
        byte[] big = RandomNumberGenerator.GetBytes(4000);
        server.Send(big, from);

        var pieces = new List<ParsedFrame>();
        do
        {
            pieces.Add(guest.Expect(f => f.Protocol == 17));
            Assert.True(pieces[^1].Raw.Length <= 1514, "fragment larger than the MTU");
        }
        while (pieces[^1].MoreFragments);
        Assert.Equal(3, pieces.Count);
        Assert.All(pieces, p => Assert.Equal(pieces[0].Identification, p.Identification));
        byte[] datagram = pieces.OrderBy(p => p.FragmentOffset).SelectMany(p => p.Transport).ToArray();
        Assert.Equal(8 + big.Length, datagram.Length);
        Assert.Equal(0, GuestFrames.Checksum(datagram, GuestFrames.PseudoSum(GuestFrames.Gateway, GuestFrames.Guest, 17, datagram.Length)));
        Assert.Equal(big, datagram[8..]);
    }

    [Fact]
    public void Dns_QueryTo10_0_2_3_IsRelayedToTheConfiguredResolver()
    {
        using var resolver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var network = new UserNetwork(new UserNetworkOptions { DnsServer = (IPEndPoint)resolver.Client.LocalEndPoint! });
        var guest = new FakeGuest(network);
        byte[] query = RandomNumberGenerator.GetBytes(40);
        guest.Send(GuestFrames.Udp(GuestFrames.Guest, 5353, GuestFrames.Dns, 53, query));
        IPEndPoint from = new(IPAddress.Any, 0);
        resolver.Client.ReceiveTimeout = 5000;
        Assert.Equal(query, resolver.Receive(ref from));
        resolver.Send([1, 2, 3, 4], from);
        ParsedFrame answer = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 5353);
        Assert.Equal(GuestFrames.Dns, answer.Source);
        Assert.Equal(53, answer.SourcePort);
        Assert.Equal([1, 2, 3, 4], answer.Payload);
    }

    [Fact]
    public async Task Tcp_GuestToHostListener_Transfers1MBEachWayAndCloses()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ushort port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        byte[] up = RandomNumberGenerator.GetBytes(1 << 20);
        byte[] down = RandomNumberGenerator.GetBytes(1 << 20);

        Task<byte[]> hostSide = Task.Run(async () =>
        {
            using TcpClient client = await listener.AcceptTcpClientAsync();
            NetworkStream stream = client.GetStream();
            Task write = stream.WriteAsync(down).AsTask();
            var received = new MemoryStream();
            await stream.CopyToAsync(received); // until the guest's FIN
            await write;
            client.Client.Shutdown(SocketShutdown.Send);
            return received.ToArray();
        });

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        GuestTcp tcp = GuestTcp.Connect(guest, GuestFrames.Gateway, port, 45000);
        tcp.Exchange(up, down.Length);
        tcp.Close();
        stopwatch.Stop();

        byte[] hostReceived = await hostSide.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(SHA256.HashData(up), SHA256.HashData(hostReceived));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(tcp.Received));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"2 MB took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Tcp_ToClosedHostPort_IsRefusedWithReset()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        ushort port = (ushort)((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 45001, GuestFrames.Gateway, port, 1, 0, Syn, 65535, [], 1460));
        ParsedFrame reset = guest.Expect(f => f.IsTcp(45001));
        Assert.Equal(Rst | Ack, reset.Flags);
        Assert.Equal(2u, reset.Acknowledgment);
    }

    [Fact]
    public async Task HostForward_HostClientConnectsToGuestService()
    {
        var options = UserNetworkOptions.Parse("user,hostfwd=tcp:127.0.0.1:0-:80");
        using var network = new UserNetwork(options);
        var guest = new FakeGuest(network);
        guest.Send(GuestFrames.ArpRequest(GuestFrames.Guest, GuestFrames.Gateway)); // the guest speaks first, so its MAC is known
        guest.Expect(f => f.EtherType == 0x0806);

        using var client = new TcpClient();
        await client.ConnectAsync(network.ForwardEndpoints[0]);
        GuestTcp tcp = GuestTcp.Accept(guest, 80);
        NetworkStream stream = client.GetStream();
        byte[] request = "GET / HTTP/1.0\r\n\r\n"u8.ToArray();
        await stream.WriteAsync(request);
        tcp.Exchange([], request.Length);
        Assert.Equal(request, tcp.Received);

        byte[] response = RandomNumberGenerator.GetBytes(200_000);
        tcp.Exchange(response, 0);
        tcp.Close(waitForPeer: false);
        var got = new MemoryStream();
        await stream.CopyToAsync(got).WaitAsync(TimeSpan.FromSeconds(10)); // ends at the guest's FIN
        Assert.Equal(response, got.ToArray());
        client.Client.Shutdown(SocketShutdown.Send);
        tcp.WaitForPeerFin();
        await Task.Delay(100);
        Assert.Equal(1, network.Statistics.TcpConnections); // kept briefly to re-acknowledge a retransmitted FIN
        for (int i = 0; i < 50 && network.Statistics.TcpConnections != 0; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(0, network.Statistics.TcpConnections);
    }

    [Fact]
    public async Task HostForward_BeforeGuestSpoke_ArpsForGuestThenConnects()
    {
        using var network = new UserNetwork(UserNetworkOptions.Parse("hostfwd=tcp:127.0.0.1:0-10.0.2.15:22"));
        var guest = new FakeGuest(network);
        using var client = new TcpClient();
        await client.ConnectAsync(network.ForwardEndpoints[0]);
        ParsedFrame arp = guest.Expect(f => f.EtherType == 0x0806);
        Assert.Equal(GuestFrames.Guest, BinaryPrimitives.ReadUInt32BigEndian(arp.Raw.AsSpan(38)));
        // Answer the ARP; the SYN's retransmission then reaches us.
        var reply = GuestFrames.ArpRequest(GuestFrames.Guest, GuestFrames.Gateway);
        guest.Send(reply);
        GuestTcp tcp = GuestTcp.Accept(guest, 22);
        tcp.Exchange("SSH-2.0-x\r\n"u8.ToArray(), 0);
        var buffer = new byte[11];
        await client.GetStream().ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("SSH-2.0-x\r\n"u8.ToArray(), buffer);
    }

    [Fact]
    public async Task HostForward_Udp_DatagramReachesGuestAndReplyReturns()
    {
        using var network = new UserNetwork(UserNetworkOptions.Parse("user,hostfwd=udp:127.0.0.1:0-:5000"));
        var guest = new FakeGuest(network);
        guest.Send(GuestFrames.ArpRequest(GuestFrames.Guest, GuestFrames.Gateway));
        guest.Expect(f => f.EtherType == 0x0806);
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await client.SendAsync("ping"u8.ToArray(), network.ForwardEndpoints[0]);
        ParsedFrame datagram = guest.Expect(f => f.Protocol == 17 && f.DestinationPort == 5000);
        Assert.Equal(GuestFrames.Gateway, datagram.Source);
        Assert.Equal("ping"u8.ToArray(), datagram.Payload);
        guest.Send(GuestFrames.Udp(GuestFrames.Guest, 5000, GuestFrames.Gateway, datagram.SourcePort, "pong"u8));
        UdpReceiveResult reply = await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("pong"u8.ToArray(), reply.Buffer);
    }
}
