namespace Vessel.Networking.Tests;

/// <summary>A minimal TCP endpoint on the fake guest: enough of RFC 9293 to move data both ways in order.</summary>
internal sealed class GuestTcp
{
    private const byte Fin = 1, Syn = 2, Rst = 4, Psh = 8, Ack = 16;
    private const int Mss = 1460;
    private readonly FakeGuest guest;
    private readonly ushort localPort;
    private readonly uint remote;
    private readonly ushort remotePort;
    private readonly MemoryStream received = new();
    private uint sndUna;
    private uint sndNxt;
    private uint rcvNxt;
    private int peerWindow;

    private GuestTcp(FakeGuest guest, ushort localPort, uint remote, ushort remotePort)
    {
        this.guest = guest;
        this.localPort = localPort;
        this.remote = remote;
        this.remotePort = remotePort;
    }

    public bool PeerFinished { get; private set; }

    public bool Reset { get; private set; }

    public byte[] Received => received.ToArray();

    public static GuestTcp Connect(FakeGuest guest, uint remote, ushort remotePort, ushort localPort)
    {
        var tcp = new GuestTcp(guest, localPort, remote, remotePort) { sndUna = 1000, sndNxt = 1001 };
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, localPort, remote, remotePort, 1000, 0, Syn, 65535, [], Mss));
        ParsedFrame synAck = guest.Expect(f => f.IsTcp(localPort) && f.SourcePort == remotePort);
        Assert.Equal(Syn | Ack, synAck.Flags);
        Assert.Equal(1001u, synAck.Acknowledgment);
        tcp.rcvNxt = synAck.Sequence + 1;
        tcp.sndUna = 1001;
        tcp.peerWindow = synAck.Window;
        tcp.SendAck();
        return tcp;
    }

    /// <summary>Answers a connection the network opens toward the guest (a port forward).</summary>
    public static GuestTcp Accept(FakeGuest guest, ushort localPort)
    {
        ParsedFrame syn = guest.Expect(f => f.IsTcp(localPort) && f.Flags == Syn);
        var tcp = new GuestTcp(guest, localPort, syn.Source, syn.SourcePort)
        {
            rcvNxt = syn.Sequence + 1,
            sndUna = 5000,
            sndNxt = 5001,
            peerWindow = syn.Window,
        };
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, localPort, tcp.remote, tcp.remotePort, 5000, tcp.rcvNxt, Syn | Ack, 65535, [], Mss));
        ParsedFrame ack = guest.Expect(f => f.IsTcp(localPort) && f.SourcePort == tcp.remotePort && (f.Flags & Ack) != 0);
        Assert.Equal(5001u, ack.Acknowledgment);
        tcp.Process(ack);
        return tcp;
    }

    public void SendAck() =>
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, localPort, remote, remotePort, sndNxt, rcvNxt, Ack, 65535, []));

    /// <summary>Sends all of <paramref name="data"/> (respecting the peer's window) while taking in what arrives, until
    /// everything sent is acknowledged and <paramref name="expectReceived"/> bytes (or FIN) have arrived.</summary>
    public void Exchange(byte[] data, int expectReceived, int timeoutMs = 30000)
    {
        DateTime deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        uint start = sndUna;
        DateTime lastProgress = DateTime.UtcNow;
        while (sndUna - start < data.Length || (received.Length < expectReceived && !PeerFinished))
        {
            Assert.True(DateTime.UtcNow < deadline, $"exchange stalled: sent {sndUna - start}/{data.Length}, received {received.Length}/{expectReceived}");
            Assert.False(Reset, "connection was reset");
            while (sndNxt - start < data.Length && (int)(sndNxt - sndUna) < peerWindow)
            {
                int offset = (int)(sndNxt - start);
                int length = Math.Min(Math.Min(Mss, data.Length - offset), peerWindow - (int)(sndNxt - sndUna));
                guest.Send(GuestFrames.Tcp(GuestFrames.Guest, localPort, remote, remotePort, sndNxt, rcvNxt, Ack | Psh, 65535,
                    data.AsSpan(offset, length)));
                sndNxt += (uint)length;
            }
            ParsedFrame? frame = guest.TryNext(TimeSpan.FromMilliseconds(200));
            if (frame != null && frame.IsTcp(localPort) && frame.SourcePort == remotePort)
            {
                uint before = sndUna;
                long receivedBefore = received.Length;
                Process(frame);
                if (sndUna != before || received.Length != receivedBefore)
                {
                    lastProgress = DateTime.UtcNow;
                }
            }
            else if (DateTime.UtcNow - lastProgress > TimeSpan.FromSeconds(1))
            {
                sndNxt = sndUna; // our own go-back retransmission, in case a segment was dropped
                lastProgress = DateTime.UtcNow;
            }
        }
    }

    public void Process(ParsedFrame frame)
    {
        if ((frame.Flags & Rst) != 0)
        {
            Reset = true;
            return;
        }
        if ((frame.Flags & Ack) != 0 && (int)(frame.Acknowledgment - sndUna) > 0 && (int)(frame.Acknowledgment - sndNxt) <= 0)
        {
            sndUna = frame.Acknowledgment;
        }
        peerWindow = frame.Window;
        bool advance = false;
        if (frame.Payload.Length > 0 && frame.Sequence == rcvNxt)
        {
            received.Write(frame.Payload);
            rcvNxt += (uint)frame.Payload.Length;
            advance = true;
        }
        if ((frame.Flags & Fin) != 0 && frame.Sequence + (uint)frame.Payload.Length == rcvNxt && !PeerFinished)
        {
            rcvNxt++;
            PeerFinished = true;
            advance = true;
        }
        if (advance || frame.Payload.Length > 0)
        {
            SendAck();
        }
    }

    /// <summary>Sends FIN and waits until it is acknowledged and (unless told otherwise) the peer's FIN has arrived.</summary>
    public void Close(int timeoutMs = 10000, bool waitForPeer = true)
    {
        guest.Send(GuestFrames.Tcp(GuestFrames.Guest, localPort, remote, remotePort, sndNxt, rcvNxt, Fin | Ack, 65535, []));
        sndNxt++;
        DateTime deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (sndUna != sndNxt || (waitForPeer && !PeerFinished))
        {
            Assert.True(DateTime.UtcNow < deadline, $"close stalled: fin acked {sndUna == sndNxt}, peer fin {PeerFinished}");
            ParsedFrame? frame = guest.TryNext(TimeSpan.FromMilliseconds(200));
            if (frame != null && frame.IsTcp(localPort) && frame.SourcePort == remotePort)
            {
                Process(frame);
            }
        }
    }

    /// <summary>Waits for the peer's FIN (the host closed its side).</summary>
    public void WaitForPeerFin(int timeoutMs = 10000)
    {
        DateTime deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!PeerFinished)
        {
            Assert.True(DateTime.UtcNow < deadline, "no FIN from the peer");
            ParsedFrame? frame = guest.TryNext(TimeSpan.FromMilliseconds(200));
            if (frame != null && frame.IsTcp(localPort) && frame.SourcePort == remotePort)
            {
                Process(frame);
            }
        }
    }
}
