using System.Collections.Concurrent;

namespace Vessel.Networking.Tests;

/// <summary>Plays the NIC: sends raw frames into a port and collects what the port delivers back.</summary>
internal sealed class FakeGuest : IFrameReceiver
{
    private readonly BlockingCollection<byte[]> received = [];

    public FakeGuest(IEthernetPort port)
    {
        Port = port;
        port.Attach(this);
    }

    public IEthernetPort Port { get; }

    public void Receive(ReadOnlySpan<byte> frame) => received.Add(frame.ToArray());

    public void Send(byte[] frame) => Port.Send(frame);

    public ParsedFrame? TryNext(TimeSpan timeout) =>
        received.TryTake(out byte[]? frame, timeout) ? new ParsedFrame(frame) : null;

    /// <summary>Waits for the first frame that matches, discarding the others.</summary>
    public ParsedFrame Expect(Func<ParsedFrame, bool> match, int timeoutMs = 5000)
    {
        DateTime deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (DateTime.UtcNow < deadline)
        {
            ParsedFrame? frame = TryNext(deadline - DateTime.UtcNow);
            if (frame != null && match(frame))
            {
                return frame;
            }
        }
        throw new TimeoutException("expected frame did not arrive");
    }

    public void Drain()
    {
        while (received.TryTake(out _))
        {
        }
    }
}
