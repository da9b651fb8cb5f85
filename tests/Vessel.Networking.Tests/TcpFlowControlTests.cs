using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking.Tests;

public sealed class TcpFlowControlTests
{
    private const byte Ack = 16, Psh = 8;

    [Fact]
    public async Task HostNotReading_ClosesTheWindowToTheGuest_ThenReopensIt()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Server.ReceiveBufferSize = 4096; // inherited by the accepted socket: keeps the host's own buffering small
        listener.Start();
        ushort port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        Task<TcpClient> accept = listener.AcceptTcpClientAsync();
        GuestTcp.Connect(guest, GuestFrames.Gateway, port, 50000);
        using TcpClient host = await accept;

        // Send whole windows until the network advertises zero: it buffers no more than the host accepted.
        uint sequence = 1001;
        int window = 65535;
        long acknowledged = 0;
        byte[] chunk = new byte[1460];
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (window > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"window never closed; {acknowledged} bytes acknowledged");
            for (int offset = 0; offset < window; offset += chunk.Length)
            {
                int length = Math.Min(chunk.Length, window - offset);
                guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 50000, GuestFrames.Gateway, port, sequence + (uint)offset, 0, Ack | Psh, 65535,
                    chunk.AsSpan(0, length)));
            }
            uint sentUpTo = sequence + (uint)window;
            ParsedFrame? reply = guest.Expect(f => f.IsTcp(50000), 2000);
            while (reply != null)
            {
                acknowledged = reply.Acknowledgment - 1001;
                sequence = reply.Acknowledgment;
                window = reply.Window;
                reply = sequence == sentUpTo || window == 0 ? null : guest.TryNext(TimeSpan.FromMilliseconds(300));
            }
        }
        guest.Drain();
        Assert.True(acknowledged < 8 << 20, $"{acknowledged} bytes taken while the host read nothing");

        // The host reads everything; then the window is open again and the guest's next byte (a window probe) is taken.
        var buffer = new byte[acknowledged];
        await host.GetStream().ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        guest.Drain();
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 50000, GuestFrames.Gateway, port, sequence, 0, Ack | Psh, 65535, [42]));
        ParsedFrame probeAck = guest.Expect(f => f.IsTcp(50000) && f.Acknowledgment == sequence + 1, 5000);
        Assert.True(probeAck.Window > 0);
        var probe = new byte[1];
        await host.GetStream().ReadExactlyAsync(probe).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(42, probe[0]);
    }

    [Fact]
    public async Task UnacknowledgedData_IsRetransmittedToTheGuest()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ushort port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        Task<TcpClient> accept = listener.AcceptTcpClientAsync();
        GuestTcp tcp = GuestTcp.Connect(guest, GuestFrames.Gateway, port, 50001);
        using TcpClient host = await accept;

        await host.GetStream().WriteAsync("lost once"u8.ToArray());
        ParsedFrame first = guest.Expect(f => f.IsTcp(50001) && f.Payload.Length > 0);
        // Do not acknowledge: the same bytes must come again after the retransmission timeout.
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        ParsedFrame again = guest.Expect(f => f.IsTcp(50001) && f.Payload.Length > 0, 3000);
        Assert.Equal(first.Sequence, again.Sequence);
        Assert.Equal(first.Payload, again.Payload);
        Assert.True(stopwatch.ElapsedMilliseconds >= 100, "retransmitted before any timeout");
        tcp.Process(again);
        Assert.Equal("lost once"u8.ToArray(), tcp.Received);
    }

    [Fact]
    public async Task ZeroWindowGuest_GetsNoDataUntilItOpensTheWindow()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ushort port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
        using var network = new UserNetwork();
        var guest = new FakeGuest(network);
        Task<TcpClient> accept = listener.AcceptTcpClientAsync();
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 50002, GuestFrames.Gateway, port, 1000, 0, 2, 65535, [], 1460));
        ParsedFrame synAck = guest.Expect(f => f.IsTcp(50002));
        uint ourNext = synAck.Sequence + 1;
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 50002, GuestFrames.Gateway, port, 1001, ourNext, Ack, 0, []));
        using TcpClient host = await accept;
        await host.GetStream().WriteAsync(new byte[5000]);

        // Only window probes (at most one byte) may arrive while the window is zero.
        DateTime until = DateTime.UtcNow.AddMilliseconds(700);
        while (DateTime.UtcNow < until)
        {
            ParsedFrame? frame = guest.TryNext(until - DateTime.UtcNow);
            Assert.True(frame == null || frame.Payload.Length <= 1, "data sent into a zero window");
        }
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, 50002, GuestFrames.Gateway, port, 1001, ourNext, Ack, 65535, []));
        ParsedFrame data = guest.Expect(f => f.IsTcp(50002) && f.Payload.Length > 1);
        Assert.Equal(ourNext, data.Sequence);
    }
}
