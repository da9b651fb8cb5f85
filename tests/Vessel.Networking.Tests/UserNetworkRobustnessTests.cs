using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking.Tests;

public sealed class UserNetworkRobustnessTests
{
    private const byte Syn = 2, Rst = 4, Ack = 16;

    private static async Task<(TcpClient Host, GuestTcp Guest)> OpenConnection(FakeGuest guest, TcpListener listener, ushort guestPort)
    {
        ushort port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
        Task<TcpClient> accept = listener.AcceptTcpClientAsync();
        GuestTcp tcp = GuestTcp.Connect(guest, GuestFrames.Gateway, port, guestPort);
        return (await accept.WaitAsync(TimeSpan.FromSeconds(5)), tcp);
    }

    private static async Task AssertStillWorks(TcpClient host, GuestTcp tcp, FakeGuest guest)
    {
        guest.Drain();
        byte[] up = "still alive, host?"u8.ToArray();
        tcp.Exchange(up, 0);
        var buffer = new byte[up.Length];
        await host.GetStream().ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(up, buffer);
        int before = tcp.Received.Length;
        await host.GetStream().WriteAsync("yes, guest"u8.ToArray());
        tcp.Exchange([], before + 10);
        Assert.Equal("yes, guest"u8.ToArray(), tcp.Received[before..]);
    }

    [Fact]
    public async Task MalformedFrames_AreCountedAndDropped_AndAnExistingConnectionKeepsWorking()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        (TcpClient host, GuestTcp tcp) = await OpenConnection(guest, listener, 46000);
        using TcpClient hostClient = host;

        for (int length = 0; length < 14; length++)
        {
            network.Send(new byte[length]); // runts
        }
        network.Send(new byte[70_000]); // giant
        byte[] good = GuestFrames.Udp(GuestFrames.Guest, 1, GuestFrames.Gateway, 9, [1, 2, 3]);

        byte[] shortIhl = (byte[])good.Clone();
        shortIhl[14] = 0x43;
        network.Send(shortIhl);
        byte[] longIhl = (byte[])good.Clone();
        longIhl[14] = 0x4F;
        network.Send(longIhl);
        byte[] longTotal = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(longTotal.AsSpan(16), 9000);
        network.Send(longTotal);
        byte[] truncated = good[..30];
        network.Send(truncated);
        byte[] badIpChecksum = (byte[])good.Clone();
        badIpChecksum[24] ^= 0xFF;
        network.Send(badIpChecksum);
        byte[] badUdpChecksum = (byte[])good.Clone();
        badUdpChecksum[^1] ^= 0x55;
        network.Send(badUdpChecksum);
        byte[] badIcmp = GuestFrames.IcmpEcho(GuestFrames.Guest, GuestFrames.Gateway, 1, 1, [9, 9]);
        badIcmp[^1] ^= 1;
        network.Send(badIcmp);
        byte[] badTcp = GuestFrames.Tcp(GuestFrames.Guest, 46000, GuestFrames.Gateway, 1, 1, 1, Ack, 100, [1, 2]);
        badTcp[^1] ^= 1;
        network.Send(badTcp);
        byte[] badTcpOffset = GuestFrames.Tcp(GuestFrames.Guest, 46002, GuestFrames.Gateway, 1, 1, 1, Ack, 100, []);
        badTcpOffset[14 + 20 + 12] = 0xF0; // data offset 60 bytes in a 20-byte segment
        network.Send(badTcpOffset);
        network.Send(GuestFrames.Ethernet(GuestFrames.GatewayMac, 0x0806, new byte[10])); // short ARP
        network.Send(GuestFrames.Udp(0, 68, 0xFFFFFFFF, 67, new byte[20], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])); // short DHCP
        var random = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            var junk = new byte[random.Next(14, 1600)];
            random.NextBytes(junk);
            if (i % 2 == 0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(junk.AsSpan(12), 0x0800);
                junk[14] = (byte)(0x40 | (junk[14] & 0xF));
            }
            network.Send(junk);
        }

        await AssertStillWorks(host, tcp, guest);
        UserNetworkStatistics stats = network.Statistics;
        Assert.True(stats.MalformedFrames >= 14 + 1 + 5, $"malformed {stats.MalformedFrames}");
        Assert.True(stats.ChecksumErrors >= 4, $"checksum errors {stats.ChecksumErrors}");
        Assert.Equal(1, stats.TcpConnections);
        Assert.Equal(0, stats.InternalErrors); // every bad frame was rejected by a check, not by an exception
    }

    [Fact]
    public async Task SynFlood_IsBoundedAndAnExistingConnectionKeepsWorking()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1024);
        ushort port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        (TcpClient host, GuestTcp tcp) = await OpenConnection(guest, listener, 47000);
        using TcpClient hostClient = host;

        for (int i = 0; i < 10_000; i++)
        {
            network.Send(GuestFrames.Tcp(GuestFrames.Guest, (ushort)(10000 + i), GuestFrames.Gateway, port, (uint)i, 0, Syn, 65535, [], 1460));
        }
        await Task.Delay(500);
        UserNetworkStatistics stats = network.Statistics;
        Assert.True(stats.HalfOpenTcpConnections <= network.Options.MaxHalfOpenTcpConnections, $"half-open {stats.HalfOpenTcpConnections}");
        Assert.True(stats.TcpConnections <= 1 + network.Options.MaxHalfOpenTcpConnections, $"connections {stats.TcpConnections}");
        Assert.True(stats.RejectedConnections + stats.QueueOverflows >= 10_000 - network.Options.MaxHalfOpenTcpConnections);

        await AssertStillWorks(host, tcp, guest);
        Assert.Equal(0, network.Statistics.InternalErrors);
    }

    [Fact]
    public async Task ConnectionTracking_LimitsTcpAndUdpFlows()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ushort port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
        using var network = new UserNetwork(new UserNetworkOptions { MaxTcpConnections = 3, MaxUdpFlows = 2 });
        var guest = new FakeGuest(network);
        var hosts = new List<TcpClient>();
        for (int i = 0; i < 3; i++)
        {
            hosts.Add((await OpenConnection(guest, listener, (ushort)(48000 + i))).Host);
        }
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 48010, GuestFrames.Gateway, port, 1, 0, Syn, 65535, [], 1460));
        ParsedFrame refused = guest.Expect(f => f.IsTcp(48010));
        Assert.Equal(Rst | Ack, refused.Flags);
        Assert.Equal(3, network.Statistics.TcpConnections);
        Assert.Equal(1, network.Statistics.RejectedConnections);

        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        ushort udpPort = (ushort)((IPEndPoint)server.Client.LocalEndPoint!).Port;
        for (ushort source = 1; source <= 3; source++)
        {
            guest.Send(GuestFrames.Udp(GuestFrames.Guest, source, GuestFrames.Gateway, udpPort, [(byte)source]));
        }
        server.Client.ReceiveTimeout = 2000;
        IPEndPoint from = new(IPAddress.Any, 0);
        var got = new HashSet<byte> { server.Receive(ref from)[0], server.Receive(ref from)[0] };
        Assert.Equal(new byte[] { 1, 2 }, got.Order().ToArray());
        await Task.Delay(200);
        Assert.Equal(0, server.Available);
        Assert.Equal(2, network.Statistics.UdpFlows);
        Assert.Equal(2, network.Statistics.RejectedConnections);
        foreach (TcpClient client in hosts)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task UdpFlows_ExpireWhenIdle()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        ushort port = (ushort)((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using var network = new UserNetwork(new UserNetworkOptions { UdpIdleTimeout = TimeSpan.FromMilliseconds(200) });
        var guest = new FakeGuest(network);
        guest.Send(GuestFrames.Udp(GuestFrames.Guest, 7, GuestFrames.Gateway, port, [1]));
        server.Client.ReceiveTimeout = 2000;
        IPEndPoint from = new(IPAddress.Any, 0);
        server.Receive(ref from);
        Assert.Equal(1, network.Statistics.UdpFlows);
        for (int i = 0; i < 40 && network.Statistics.UdpFlows != 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, network.Statistics.UdpFlows);
    }

    [Fact]
    public void HostileGuest_CannotReachHostLoopbackDirectlyOrOtherNetworkAddresses()
    {
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 49000, 0x7F000001, 22, 1, 0, Syn, 65535, [], 1460));
        Assert.Equal(Rst | Ack, guest.Expect(f => f.IsTcp(49000)).Flags);
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 49001, 0x0A000263, 22, 1, 0, Syn, 65535, [], 1460));
        Assert.Equal(Rst | Ack, guest.Expect(f => f.IsTcp(49001)).Flags);
    }
}
