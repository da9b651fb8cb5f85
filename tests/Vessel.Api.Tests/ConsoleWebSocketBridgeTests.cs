using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Vessel.Api.Tests;

/// <summary>The console bridge between a WebSocket and a ConsoleHub-style Unix socket, with a stand-in console.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ConsoleWebSocketBridgeTests
{
    [Fact]
    public async Task BytesFlowBothWaysAndTheConsoleClosingClosesTheWebSocket()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vessel-console-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            using var bridgeSide = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await bridgeSide.ConnectAsync(new UnixDomainSocketEndPoint(path));
            using var guest = await listener.AcceptAsync();
            var (server, browser) = await WebSocketPairAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var bridge = ConsoleWebSocketBridge.RunAsync(server, bridgeSide, timeout.Token);

            await guest.SendAsync("Linux vessel 6.1 riscv64\r\n"u8.ToArray(), SocketFlags.None);
            Assert.Equal("Linux vessel 6.1 riscv64\r\n", await ReceiveTextAsync(browser, 26, timeout.Token));

            await browser.SendAsync("uname -a\r"u8.ToArray(), WebSocketMessageType.Binary, true, timeout.Token);
            await browser.SendAsync("é"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
            byte[] typed = new byte[64];
            int got = 0;
            while (got < 11)
            {
                got += await guest.ReceiveAsync(typed.AsMemory(got), SocketFlags.None, timeout.Token);
            }

            Assert.Equal("uname -a\ré", Encoding.UTF8.GetString(typed, 0, got));

            guest.Shutdown(SocketShutdown.Both);
            guest.Close();
            var closing = await browser.ReceiveAsync(new byte[16], timeout.Token);
            Assert.Equal(WebSocketMessageType.Close, closing.MessageType);
            Assert.Equal("the VM's console closed", browser.CloseStatusDescription);
            await browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            await bridge.WaitAsync(timeout.Token);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<string> ReceiveTextAsync(WebSocket socket, int length, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[256];
        while (received.Count < length)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            received.AddRange(buffer.AsSpan(0, result.Count));
        }

        return Encoding.UTF8.GetString([.. received]);
    }

    private static async Task<(WebSocket Server, WebSocket Client)> WebSocketPairAsync()
    {
        using var tcp = new TcpListener(IPAddress.Loopback, 0);
        tcp.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)tcp.LocalEndpoint).Port);
        var server = await tcp.AcceptTcpClientAsync();
        return (WebSocket.CreateFromStream(server.GetStream(), isServer: true, subProtocol: null, TimeSpan.Zero),
            WebSocket.CreateFromStream(client.GetStream(), isServer: false, subProtocol: null, TimeSpan.Zero));
    }
}
