using System.Net.Sockets;
using System.Text;
using Vessel.Hosting;

namespace Vessel.Hosting.Tests;

/// <summary>The worker's console: a late attach sees recent output (bounded), live output reaches every client, the log keeps it all.</summary>
public sealed class ConsoleHubTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vessel-hub-" + Guid.NewGuid().ToString("N")[..12]);

    public ConsoleHubTests() => Directory.CreateDirectory(_dir);

    [Fact]
    public async Task LateAttachSeesTheLast64KiBThenLiveOutput()
    {
        using var hub = new ConsoleHub(Path.Combine(_dir, "c.sock"), Path.Combine(_dir, "c.log"));
        byte[] early = Encoding.ASCII.GetBytes(new string('x', 100_000) + "END-OF-BACKLOG");
        foreach (byte b in early)
        {
            hub.Write(b);
        }

        await Task.Delay(100); // flushed to the log
        using var client = await ConnectAsync();
        string backlog = await ReceiveUntilAsync(client, "END-OF-BACKLOG");
        Assert.Equal(64 * 1024, backlog.Length);
        Assert.EndsWith("END-OF-BACKLOG", backlog);

        foreach (byte b in "live!"u8)
        {
            hub.Write(b);
        }

        Assert.Equal("live!", await ReceiveUntilAsync(client, "live!"));
        await Task.Delay(100);
        Assert.Equal(early.Length + 5, new FileInfo(Path.Combine(_dir, "c.log")).Length);
    }

    [Fact]
    public async Task ADisconnectedClientDoesNotStopOutputToTheOthers()
    {
        using var hub = new ConsoleHub(Path.Combine(_dir, "c.sock"), Path.Combine(_dir, "c.log"));
        var gone = await ConnectAsync();
        using var stays = await ConnectAsync();
        await Task.Delay(100);
        gone.Dispose();
        foreach (byte b in "after"u8)
        {
            hub.Write(b);
        }

        Assert.Equal("after", await ReceiveUntilAsync(stays, "after"));
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_dir, "c.sock")));
        return socket;
    }

    private static async Task<string> ReceiveUntilAsync(Socket socket, string end)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var text = new StringBuilder();
        byte[] buffer = new byte[8192];
        while (!text.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.True(n > 0, "the hub closed the connection");
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
