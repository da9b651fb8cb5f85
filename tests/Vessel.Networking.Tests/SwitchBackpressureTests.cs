namespace Vessel.Networking.Tests;

/// <summary>
/// Bursts through a switch: Linux queues only net.unix.max_dgram_qlen (10 by default) datagrams per socket, so a
/// burst of frames (one virtio-net transmit batch) used to lose all but about ten of them (issue 5).
/// </summary>
public sealed class SwitchBackpressureTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"vsb-{Guid.NewGuid():N}"[..16]);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData(true)] // the sender's process runs the hub
    [InlineData(false)] // the receiver's does
    public void BurstOfFramesArrivesWhole(bool senderIsHub)
    {
        const int Burst = 2000;
        using SwitchPort first = SwitchNetwork.Connect("burst", directory), second = SwitchNetwork.Connect("burst", directory);
        var (sender, receiver) = senderIsHub ? (first, second) : (second, first);
        var counter = new CountingReceiver();
        receiver.Attach(counter);
        Thread.Sleep(100); // hellos reach the hub

        // The receiver's MAC is learned from one frame of its own, so the burst goes to it alone.
        receiver.Send(Frame(destination: 0xff, source: 2, sequence: 0));
        Thread.Sleep(100);
        for (int i = 1; i <= Burst; i++)
        {
            sender.Send(Frame(destination: 2, source: 1, sequence: i));
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (counter.Count < Burst && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        // Before the fix about 10 of 2000 arrived; allow a few losses to thread-pool stalls longer than the switch's
        // patience (this test shares the pool with the other test classes running in parallel on 2 cores).
        Assert.True(counter.Count >= Burst * 95 / 100, $"{counter.Count} of {Burst} frames arrived; the sender dropped {sender.DroppedFrames}");
        Assert.True(counter.InOrder, "frames arrived out of order");
    }

    private static byte[] Frame(byte destination, byte source, int sequence)
    {
        var frame = new byte[1514];
        byte[] to = destination == 0xff ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : [0x52, 0x54, 0, 0, 0, destination];
        to.CopyTo(frame, 0);
        byte[] from = [0x52, 0x54, 0, 0, 0, source];
        from.CopyTo(frame, 6);
        frame[12] = 0x88;
        frame[13] = 0xB5; // IEEE local experimental EtherType
        BitConverter.TryWriteBytes(frame.AsSpan(14), sequence);
        return frame;
    }

    private sealed class CountingReceiver : IFrameReceiver
    {
        private int count;
        private int last;

        public int Count => Volatile.Read(ref count);

        public bool InOrder { get; private set; } = true;

        public void Receive(ReadOnlySpan<byte> frame)
        {
            int sequence = BitConverter.ToInt32(frame[14..]);
            if (frame[0] == 0xff || sequence == 0)
            {
                return; // our own learning frame echoed by nobody; ignore anything not from the burst
            }

            InOrder &= sequence > last;
            last = sequence;
            Interlocked.Increment(ref count);
        }
    }
}
