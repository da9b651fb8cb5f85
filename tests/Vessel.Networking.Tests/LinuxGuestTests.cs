using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace Vessel.Networking.Tests;

/// <summary>
/// The host kernel's own TCP/IP stack plays the guest: a TAP interface with address 10.0.2.15 is wired to a
/// <see cref="UserNetwork"/>, so real Linux frames (SYN options, delayed ACKs, window updates) exercise the NAT.
/// </summary>
public sealed class LinuxGuestTests : IDisposable
{
    private readonly ITestOutputHelper output;
    private readonly string name = $"vug{Random.Shared.Next(0x10000):x4}";
    private readonly TapPort? tap;
    private readonly UserNetwork? network;

    public LinuxGuestTests(ITestOutputHelper output)
    {
        this.output = output;
        if (new RootWithTunFactAttribute().Skip != null)
        {
            return;
        }
        network = new UserNetwork(UserNetworkOptions.Parse("user,hostfwd=tcp:127.0.0.1:0-10.0.2.15:7777"));
        tap = new TapPort(name);
        tap.Attach(new Relay(network));
        network.Attach(new Relay(tap));
        RunIp($"addr add 10.0.2.15/24 dev {name}");
        RunIp($"link set {name} up");
    }

    public void Dispose()
    {
        tap?.Dispose();
        network?.Dispose();
    }

    private static void RunIp(string arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ip {arguments}: {error}");
    }

    private sealed class Relay(IEthernetPort target) : IFrameReceiver
    {
        public void Receive(ReadOnlySpan<byte> frame) => target.Send(frame);
    }

    private static async Task<byte[]> ExchangeAsync(Socket socket, byte[] send)
    {
        using var stream = new NetworkStream(socket, ownsSocket: false);
        Task write = Task.Run(async () =>
        {
            await stream.WriteAsync(send);
            socket.Shutdown(SocketShutdown.Send);
        });
        var received = new MemoryStream();
        await stream.CopyToAsync(received);
        await write;
        return received.ToArray();
    }

    [RootWithTunFact]
    public async Task LinuxTcpClient_ThroughUserNetwork_ToHostListener_8MBEachWay()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        byte[] up = RandomNumberGenerator.GetBytes(8 << 20);
        byte[] down = RandomNumberGenerator.GetBytes(8 << 20);
        Task<byte[]> hostSide = Task.Run(async () =>
        {
            using Socket accepted = await listener.AcceptSocketAsync();
            return await ExchangeAsync(accepted, down);
        });

        var stopwatch = Stopwatch.StartNew();
        using var guest = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        guest.Bind(new IPEndPoint(IPAddress.Parse("10.0.2.15"), 0));
        await guest.ConnectAsync(new IPEndPoint(IPAddress.Parse("10.0.2.2"), port)).WaitAsync(TimeSpan.FromSeconds(10));
        byte[] guestReceived = await ExchangeAsync(guest, up).WaitAsync(TimeSpan.FromSeconds(120));
        byte[] hostReceived = await hostSide.WaitAsync(TimeSpan.FromSeconds(10));
        stopwatch.Stop();

        Assert.Equal(SHA256.HashData(up), SHA256.HashData(hostReceived));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(guestReceived));
        output.WriteLine($"16 MiB through the NAT in {stopwatch.Elapsed.TotalSeconds:F2} s = {16 / stopwatch.Elapsed.TotalSeconds:F1} MiB/s");
        Assert.Equal(0, network!.Statistics.ChecksumErrors + network.Statistics.MalformedFrames + network.Statistics.InternalErrors);
    }

    [RootWithTunFact]
    public async Task HostForward_ToALinuxListener()
    {
        using var guestListener = new TcpListener(IPAddress.Parse("10.0.2.15"), 7777);
        guestListener.Start();
        Task<byte[]> guestSide = Task.Run(async () =>
        {
            using Socket accepted = await guestListener.AcceptSocketAsync();
            return await ExchangeAsync(accepted, "hello from the guest"u8.ToArray());
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(network!.ForwardEndpoints[0]);
        byte[] payload = RandomNumberGenerator.GetBytes(300_000);
        byte[] fromGuest = await ExchangeAsync(client, payload).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("hello from the guest"u8.ToArray(), fromGuest);
        Assert.Equal(payload, await guestSide.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [RootWithTunFact]
    public async Task LinuxUdp_ToGateway_ReachesHostLoopback()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using var guest = new UdpClient(new IPEndPoint(IPAddress.Parse("10.0.2.15"), 0));
        await guest.SendAsync("datagram"u8.ToArray(), new IPEndPoint(IPAddress.Parse("10.0.2.2"), port));
        UdpReceiveResult got = await server.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("datagram"u8.ToArray(), got.Buffer);
        await server.SendAsync("answer"u8.ToArray(), got.RemoteEndPoint);
        UdpReceiveResult answer = await guest.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("answer"u8.ToArray(), answer.Buffer);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.2.2"), port), answer.RemoteEndPoint);

        byte[] big = RandomNumberGenerator.GetBytes(9000); // the kernel must reassemble our fragments
        await server.SendAsync(big, got.RemoteEndPoint);
        Assert.Equal(big, (await guest.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5))).Buffer);
    }

    [RootWithTunFact]
    public void LinuxPing_GatewayAndDnsAnswer()
    {
        using var ping = new System.Net.NetworkInformation.Ping();
        foreach (string address in new[] { "10.0.2.2", "10.0.2.3" })
        {
            System.Net.NetworkInformation.PingReply reply = ping.Send(IPAddress.Parse(address), 5000, new byte[56]);
            Assert.Equal(System.Net.NetworkInformation.IPStatus.Success, reply.Status);
        }
    }
}
