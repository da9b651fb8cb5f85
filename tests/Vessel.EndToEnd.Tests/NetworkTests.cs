using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Vessel.Cli.Benchmarks;
using Vessel.Images;

namespace Vessel.EndToEnd.Tests;

/// <summary>virtio-net with the user-mode NAT, seen from a real Linux guest (`vessel run --net user,...`).</summary>
[Collection(GuestKitCollection.Name)]
public sealed class NetworkTests
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);

    [GuestKitFact]
    public async Task GuestGetsALeaseAndFetchesAFileFromTheHostLoopback()
    {
        byte[] payload = RandomNumberGenerator.GetBytes(1 << 20);
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        int port = ((IPEndPoint)server.LocalEndpoint).Port;
        var serving = ServeOnceAsync(server, payload);

        await using var vessel = VesselProcess.Start("run");
        await vessel.SendAsync(
            "ip -4 addr show eth0 | grep inet; ip route | grep default; " +
            $"wget -q -O /tmp/f http://10.0.2.2:{port}/file && sha256sum /tmp/f; echo NET-$((1+1))-DONE; poweroff -f\n");
        int done = await vessel.WaitForAsync("NET-2-DONE", Boot);
        string output = vessel.Output[..done];
        Assert.Contains("inet 10.0.2.15/24", output);
        Assert.Contains("default via 10.0.2.2", output);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(payload)), output);
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        await serving;
    }

    [GuestKitFact]
    public async Task PortForwardReachesAServerInTheGuest()
    {
        int port = FreePort();
        await using var vessel = VesselProcess.Start("run", "--net", $"user,hostfwd=tcp:127.0.0.1:{port}-:80");
        await vessel.SendAsync(
            "mkdir -p /www; echo hello-from-guest-$((6*7)) > /www/index.html; httpd -p 80 -h /www; echo HTTPD-$((1+1))-UP\n");
        await vessel.WaitForAsync("HTTPD-2-UP", Boot);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };
        string body = await http.GetStringAsync($"http://127.0.0.1:{port}/index.html");
        Assert.Equal("hello-from-guest-42\n", body);
        await vessel.SendAsync("poweroff -f\n");
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [GuestKitFact]
    public async Task MalformedFramesAndASynFloodFromTheGuestLeaveTheNatWorking()
    {
        // tests/guest/net-fuzz.c sends runts, bad IPv4/TCP/UDP/ICMP/ARP headers, fragments, giants and 10,000
        // never-completed SYNs through a raw socket; afterwards a normal download must still work.
        var kit = await new GuestKit().TryGetCachedAsync() ?? throw new InvalidOperationException("no guest kit");
        string initrd = Path.Combine(Path.GetTempPath(), $"vessel-fuzz-{Guid.NewGuid():N}.cpio.gz");
        byte[] fuzz = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "guest", "net-fuzz"));
        BenchmarkInitramfs.Build(kit.Initramfs, initrd, [("net-fuzz", fuzz)]);
        try
        {
            byte[] payload = RandomNumberGenerator.GetBytes(256 << 10);
            using var server = new TcpListener(IPAddress.Loopback, 0);
            server.Start();
            int port = ((IPEndPoint)server.LocalEndpoint).Port;
            var serving = ServeOnceAsync(server, payload);

            await using var vessel = VesselProcess.Start("run", "--initrd", initrd);
            await vessel.SendAsync(
                $"net-fuzz eth0 100; wget -q -O /tmp/f http://10.0.2.2:{port}/file && sha256sum /tmp/f; echo FUZZ-$((1+1))-DONE; poweroff -f\n");
            int done = await vessel.WaitForAsync("FUZZ-2-DONE", TimeSpan.FromMinutes(8));
            string output = vessel.Output[..done];
            Assert.Matches(@"FUZZ-SENT \d{5}", output);
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(payload)), output);
            Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            await serving;
        }
        finally
        {
            File.Delete(initrd);
        }
    }

    [GuestKitFact]
    public async Task BadNetworkOptionsAreRefusedWithAMessage()
    {
        await using var vessel = VesselProcess.Start("run", "--net", "user,hostfwd=tcp:127.0.0.1:notaport-:80");
        Assert.Equal(2, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("hostfwd", vessel.Output);
        await using var mac = VesselProcess.Start("run", "--mac", "01:00:00:00:00:01");
        Assert.Equal(2, await mac.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("multicast", mac.Output);
    }

    /// <summary>
    /// A minimal HTTP/1.0 server that serves one GET (enough for busybox wget). Connections that close before sending
    /// a request are skipped: net-fuzz's SYN flood goes to random ports of 10.0.2.2, and one of its 10,000 SYNs lands
    /// on this port about one run in seven; the NAT connects it, the guest kernel resets it, and the download must
    /// still be served (a server that took only the first connection waited for it forever).
    /// </summary>
    private static async Task ServeOnceAsync(TcpListener server, byte[] payload)
    {
        var served = new TaskCompletionSource();
        _ = Task.Run(async () =>
        {
            while (!served.Task.IsCompleted)
            {
                TcpClient client;
                try
                {
                    client = await server.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is ObjectDisposedException or SocketException)
                {
                    return; // the test is over and stopped the listener
                }

                _ = Task.Run(async () =>
                {
                    // Each connection on its own: one that never sends a request must not hold up the download.
                    using (client)
                    {
                        if (await TryServeAsync(client, payload))
                        {
                            served.TrySetResult();
                        }
                    }
                });
            }
        });
        await served.Task;
    }

    /// <summary>Answers one request on <paramref name="client"/>; false if it closed or failed before a whole request arrived.</summary>
    private static async Task<bool> TryServeAsync(TcpClient client, byte[] payload)
    {
        try
        {
            using var stream = client.GetStream();
            var request = new StringBuilder();
            byte[] buffer = new byte[1024];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await stream.ReadAsync(buffer);
                if (n == 0)
                {
                    return false;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {payload.Length}\r\nContent-Type: application/octet-stream\r\n\r\n"));
            await stream.WriteAsync(payload);
            return true;
        }
        catch (IOException)
        {
            return false; // reset by the peer
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
