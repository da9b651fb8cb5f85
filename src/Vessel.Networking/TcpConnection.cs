using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>
/// One guest TCP connection terminated here (RFC 9293) and relayed to a host socket. All members except the two
/// host I/O tasks run on the network thread. Buffers are bounded both ways: host bytes are read only while the
/// guest-bound ring has room, and the window we advertise to the guest is what the host socket has not yet taken.
/// </summary>
internal sealed partial class TcpConnection
{
    public const int OurMss = 1460;
    private const int ToGuestCapacity = 128 * 1024;
    private const int HostReadChunk = 16 * 1024;
    private const int ToHostCapacity = 65535; // no window scaling, so the advertised window tops out here
    private const int InitialRtoMs = 200;
    private const int MaxRtoMs = 8000;
    private const int MaxRetransmissions = 12;
    private const int TimeWaitMs = 2000;

    private readonly TcpNat nat;
    private readonly UserNetwork network;
    private readonly ByteRing toGuest = new(ToGuestCapacity);
    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> toHost = new();
    private readonly SemaphoreSlim readPermit = new(0, 1);
    private readonly SemaphoreSlim writeSignal = new(0, int.MaxValue);
    private readonly CancellationTokenSource aborted;
    private Socket? host;

    // Send side (toward the guest). toGuest holds the bytes from sndUna on.
    private readonly uint iss;
    private uint sndUna;
    private uint sndNxt;
    private int guestWindow;
    private int guestMss = 536;
    private bool hostEof;
    private bool finSent;
    private bool finAcked;
    private bool readerParked;
    private int duplicateAcks;

    // Receive side (from the guest).
    private uint rcvNxt;
    private bool guestFin;
    private int toHostOutstanding;
    private volatile bool shutdownHostAfterDrain;
    private int lastAdvertisedWindow;

    private long retransmitAt = long.MaxValue;
    private int rtoMs = InitialRtoMs;
    private int retransmissions;
    private long closedAt;

    public TcpConnection(TcpNat nat, UserNetwork network, FlowKey key, TcpState state, long now)
    {
        this.nat = nat;
        this.network = network;
        Key = key;
        State = state;
        CreatedAt = now;
        iss = (uint)Random.Shared.Next() ^ (uint)now;
        sndUna = iss;
        sndNxt = iss;
        aborted = CancellationTokenSource.CreateLinkedTokenSource(network.Stopping);
    }

    public FlowKey Key { get; }

    public TcpState State { get; private set; }

    public long CreatedAt { get; }

    public bool IsHalfOpen => State is TcpState.ConnectingHost or TcpState.SynSent or TcpState.SynReceived;

    /// <summary>Bytes of data sent but not yet acknowledged (the sequence space minus an unacknowledged FIN).</summary>
    private int DataInFlight => (int)(sndNxt - sndUna) - (finSent && !finAcked ? 1 : 0);

    private int AdvertisedWindow => Math.Max(0, ToHostCapacity - toHostOutstanding);

    /// <summary>Outbound: the guest's SYN arrived; connect the host socket, then answer (or refuse with RST).</summary>
    public void StartOutbound(in TcpSegment syn, System.Net.IPEndPoint target)
    {
        rcvNxt = syn.Sequence + 1;
        guestWindow = syn.Window;
        guestMss = syn.Mss > 0 ? Math.Min(syn.Mss, OurMss) : 536;
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        host = socket;
        _ = ConnectAsync(socket, target);
    }

    private void OnHostConnected()
    {
        if (State != TcpState.ConnectingHost)
        {
            return;
        }
        State = TcpState.SynReceived;
        sndNxt = iss + 1;
        SendSegment(TcpSegment.Syn | TcpSegment.Ack, iss, ReadOnlySpan<byte>.Empty, withMss: true);
        ArmRetransmit();
    }

    /// <summary>Port forward: a host client connected; open the connection to the guest with a SYN.</summary>
    public void StartForwarded(Socket accepted)
    {
        host = accepted;
        accepted.NoDelay = true;
        sndNxt = iss + 1;
        SendSegment(TcpSegment.Syn, iss, ReadOnlySpan<byte>.Empty, withMss: true);
        ArmRetransmit();
    }

    public void HandleSegment(in TcpSegment segment)
    {
        switch (State)
        {
            case TcpState.ConnectingHost:
                if (segment.Has(TcpSegment.Rst))
                {
                    Abort(sendReset: false);
                }
                return; // retransmitted SYNs wait for the host connect
            case TcpState.SynSent:
                HandleSynSent(segment);
                return;
            case TcpState.Closed:
                if (segment.Has(TcpSegment.Fin))
                {
                    SendAck();
                }
                return;
        }

        if (segment.Has(TcpSegment.Rst))
        {
            // RFC 5961 §3.2: only a reset at exactly the expected sequence number closes the connection.
            if (segment.Sequence == rcvNxt)
            {
                Abort(sendReset: false);
            }
            else if (InWindow(segment.Sequence))
            {
                SendAck();
            }
            return;
        }
        if (segment.Has(TcpSegment.Syn))
        {
            if (State == TcpState.SynReceived && segment.Sequence + 1 == rcvNxt)
            {
                SendSegment(TcpSegment.Syn | TcpSegment.Ack, iss, ReadOnlySpan<byte>.Empty, withMss: true);
            }
            else
            {
                SendAck(); // RFC 5961 §4: challenge ACK
            }
            return;
        }
        if (!segment.Has(TcpSegment.Ack))
        {
            return;
        }
        if (State == TcpState.SynReceived)
        {
            if (segment.Acknowledgment != iss + 1)
            {
                SendReset(segment.Acknowledgment);
                return;
            }
            sndUna = iss + 1;
            BecomeEstablished();
        }
        ProcessAck(segment);
        if (State == TcpState.Established)
        {
            ProcessData(segment);
        }
        TrySendData();
        CheckClosed();
    }

    private void HandleSynSent(in TcpSegment segment)
    {
        bool ackOk = segment.Has(TcpSegment.Ack) && segment.Acknowledgment == iss + 1;
        if (segment.Has(TcpSegment.Rst))
        {
            if (ackOk)
            {
                Abort(sendReset: false);
            }
            return;
        }
        if (segment.Has(TcpSegment.Ack) && !ackOk)
        {
            SendReset(segment.Acknowledgment);
            return;
        }
        if (!segment.Has(TcpSegment.Syn) || !ackOk)
        {
            return;
        }
        rcvNxt = segment.Sequence + 1;
        guestMss = segment.Mss > 0 ? Math.Min(segment.Mss, OurMss) : 536;
        sndUna = iss + 1;
        guestWindow = segment.Window;
        BecomeEstablished();
        SendAck();
    }

    private void BecomeEstablished()
    {
        State = TcpState.Established;
        nat.OnEstablished(this);
        retransmitAt = long.MaxValue;
        rtoMs = InitialRtoMs;
        retransmissions = 0;
        lastAdvertisedWindow = AdvertisedWindow;
        _ = ReadHostAsync(host!);
        _ = WriteHostAsync(host!);
        GrantRead();
    }

    /// <summary>Lets the host reader take one more chunk (at most one permit is ever outstanding).</summary>
    private void GrantRead()
    {
        if (readPermit.CurrentCount == 0)
        {
            readPermit.Release();
        }
    }

    private bool InWindow(uint sequence) => (int)(sequence - rcvNxt) >= 0 && (int)(sequence - rcvNxt) < Math.Max(1, AdvertisedWindow);

    private void ProcessAck(in TcpSegment segment)
    {
        uint ack = segment.Acknowledgment;
        retransmissions = 0; // the guest is alive; only a silent guest is given up on
        if ((int)(ack - sndNxt) > 0)
        {
            SendAck(); // acknowledges something we never sent (RFC 9293 §3.10.7.4)
            return;
        }
        int advanced = (int)(ack - sndUna);
        int previousWindow = guestWindow;
        guestWindow = segment.Window;
        if (advanced > 0)
        {
            int dataAcked = Math.Min(advanced, toGuest.Count);
            toGuest.Discard(dataAcked);
            if (finSent && ack == sndNxt && advanced > dataAcked)
            {
                finAcked = true;
            }
            sndUna = ack;
            duplicateAcks = 0;
            retransmissions = 0;
            rtoMs = InitialRtoMs;
            retransmitAt = sndUna == sndNxt ? long.MaxValue : network.NowMilliseconds + rtoMs;
            if (readerParked && !hostEof && toGuest.Free >= HostReadChunk)
            {
                readerParked = false;
                GrantRead();
            }
        }
        else if (advanced == 0 && previousWindow == 0 && guestWindow > 0 && sndNxt != sndUna)
        {
            // The window reopened while a probe byte was outstanding (the guest discarded it): resend from sndUna now.
            sndNxt = sndUna;
            finSent = false;
        }
        else if (advanced == 0 && segment.Payload.Length == 0 && !segment.Has(TcpSegment.Fin) && sndNxt != sndUna
            && previousWindow == guestWindow && ++duplicateAcks == 3)
        {
            // RFC 5681 §3.2 fast retransmit: resend from the first unacknowledged byte without waiting for the timer.
            GoBack();
        }
    }

    private void ProcessData(in TcpSegment segment)
    {
        ReadOnlySpan<byte> data = segment.Payload;
        uint sequence = segment.Sequence;
        int overlap = (int)(rcvNxt - sequence);
        if (overlap > 0)
        {
            if (overlap >= data.Length + (segment.Has(TcpSegment.Fin) ? 1 : 0))
            {
                if (segment.SequenceLength > 0)
                {
                    SendAck(); // an old retransmission: re-acknowledge
                }
                return;
            }
            data = data[Math.Min(overlap, data.Length)..];
            sequence = rcvNxt;
        }
        if (sequence != rcvNxt)
        {
            SendAck(); // out of order: drop it; the duplicate ACK asks for the gap (no reassembly queue)
            return;
        }
        bool finInOrder = segment.Has(TcpSegment.Fin);
        if (!guestFin && data.Length > 0)
        {
            int accepted = Math.Min(data.Length, AdvertisedWindow);
            if (accepted > 0)
            {
                byte[] copy = ArrayPool<byte>.Shared.Rent(accepted);
                data[..accepted].CopyTo(copy);
                toHost.Enqueue((copy, accepted));
                toHostOutstanding += accepted;
                rcvNxt += (uint)accepted;
                writeSignal.Release();
            }
            finInOrder &= accepted == data.Length;
        }
        if (finInOrder && !guestFin)
        {
            guestFin = true;
            rcvNxt++;
            shutdownHostAfterDrain = true;
            writeSignal.Release();
        }
        if (data.Length > 0 || segment.Has(TcpSegment.Fin))
        {
            SendAck();
        }
    }

    /// <summary>Sends what the guest's window allows from the unsent part of the ring, then FIN once the host is done.</summary>
    private void TrySendData()
    {
        if (State != TcpState.Established)
        {
            return;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(guestMss);
        try
        {
            while (true)
            {
                int inFlight = DataInFlight;
                int unsent = toGuest.Count - inFlight;
                int windowLeft = guestWindow - inFlight;
                int length = Math.Min(Math.Min(unsent, windowLeft), guestMss);
                if (length <= 0 || finSent)
                {
                    break;
                }
                toGuest.CopyTo(inFlight, buffer.AsSpan(0, length));
                SendSegment(TcpSegment.Ack | TcpSegment.Psh, sndNxt, buffer.AsSpan(0, length), withMss: false);
                sndNxt += (uint)length;
                ArmRetransmit();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        int allSent = DataInFlight;
        if (hostEof && !finSent && allSent == toGuest.Count)
        {
            SendSegment(TcpSegment.Fin | TcpSegment.Ack, sndNxt, ReadOnlySpan<byte>.Empty, withMss: false);
            sndNxt++;
            finSent = true;
            ArmRetransmit();
        }
        else if (toGuest.Count > allSent && guestWindow == 0 && sndNxt == sndUna)
        {
            ArmRetransmit(); // zero-window probe (RFC 9293 §3.8.6.1) when the timer fires
        }
    }

    private void ArmRetransmit()
    {
        if (retransmitAt == long.MaxValue)
        {
            retransmitAt = network.NowMilliseconds + rtoMs;
        }
    }

    /// <summary>Go-back-N: everything after sndUna is sent again (we keep no per-segment state).</summary>
    private void GoBack()
    {
        sndNxt = sndUna;
        finSent = false;
        if (State == TcpState.Established && guestWindow == 0 && toGuest.Count > 0)
        {
            // Window probe: one byte beyond a zero window makes the guest answer with its current window.
            byte[] one = new byte[1];
            toGuest.CopyTo(0, one);
            SendSegment(TcpSegment.Ack, sndNxt, one, withMss: false);
            sndNxt++;
            return;
        }
        TrySendData();
    }

    public void OnTimer(long now)
    {
        if (State == TcpState.Closed)
        {
            if (now - closedAt > TimeWaitMs)
            {
                nat.Remove(this);
            }
            return;
        }
        if (IsHalfOpen && now - CreatedAt > network.Options.TcpHandshakeTimeout.TotalMilliseconds)
        {
            Abort(sendReset: State != TcpState.ConnectingHost);
            return;
        }
        if (now < retransmitAt)
        {
            return;
        }
        if (++retransmissions > MaxRetransmissions)
        {
            Abort(sendReset: true);
            return;
        }
        rtoMs = Math.Min(rtoMs * 2, MaxRtoMs);
        retransmitAt = now + rtoMs;
        switch (State)
        {
            case TcpState.SynSent:
                SendSegment(TcpSegment.Syn, iss, ReadOnlySpan<byte>.Empty, withMss: true);
                break;
            case TcpState.SynReceived:
                SendSegment(TcpSegment.Syn | TcpSegment.Ack, iss, ReadOnlySpan<byte>.Empty, withMss: true);
                break;
            case TcpState.Established:
                GoBack();
                if (sndNxt == sndUna)
                {
                    retransmitAt = long.MaxValue;
                }
                break;
        }
    }

    private void CheckClosed()
    {
        if (State == TcpState.Established && guestFin && finAcked && toHostOutstanding == 0)
        {
            State = TcpState.Closed;
            closedAt = network.NowMilliseconds;
            retransmitAt = long.MaxValue;
            aborted.Cancel();
            host?.Dispose();
        }
    }

    // ---- segments toward the guest ----

    private void SendAck() => SendSegment(TcpSegment.Ack, sndNxt, ReadOnlySpan<byte>.Empty, withMss: false);

    private void SendReset(uint sequence) =>
        TcpNat.SendReset(network, Key, sequence, 0, withAck: false);

    private void SendSegment(byte flags, uint sequence, ReadOnlySpan<byte> payload, bool withMss)
    {
        int headerLength = withMss ? 24 : 20;
        int length = headerLength + payload.Length;
        byte[] frame = UserNetwork.RentFrame(length, out Span<byte> tcp);
        try
        {
            BinaryPrimitives.WriteUInt16BigEndian(tcp, Key.RemotePort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], Key.GuestPort);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
            bool ack = (flags & TcpSegment.Ack) != 0;
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack ? rcvNxt : 0);
            tcp[12] = (byte)(headerLength / 4 << 4);
            tcp[13] = flags;
            int window = AdvertisedWindow;
            lastAdvertisedWindow = window;
            BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], (ushort)Math.Min(window, 65535));
            BinaryPrimitives.WriteUInt32BigEndian(tcp[16..], 0); // checksum (filled by TransmitIpv4) and urgent pointer
            if (withMss)
            {
                tcp[20] = 2;
                tcp[21] = 4;
                BinaryPrimitives.WriteUInt16BigEndian(tcp[22..], OurMss);
            }
            payload.CopyTo(tcp[headerLength..]);
            network.TransmitIpv4(frame, Key.RemoteAddress, Key.GuestAddress, UserNetwork.ProtocolTcp, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Ends the connection at once: optionally RST toward the guest, close the host socket, forget the flow.</summary>
    public void Abort(bool sendReset)
    {
        if (nat.Contains(this) == false)
        {
            return;
        }
        if (sendReset && State != TcpState.Closed)
        {
            if (State == TcpState.ConnectingHost)
            {
                // The guest's SYN is still unanswered: RFC 9293 §3.10.7.1 form, acknowledging the SYN.
                TcpNat.SendReset(network, Key, 0, rcvNxt, withAck: true);
            }
            else
            {
                TcpNat.SendReset(network, Key, sndNxt, rcvNxt, withAck: true);
            }
        }
        nat.Remove(this);
    }

    /// <summary>Releases the host socket and stops the I/O tasks (called once, when the connection is forgotten).</summary>
    public void Release()
    {
        aborted.Cancel();
        host?.Dispose();
        while (toHost.TryDequeue(out var chunk))
        {
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        }
        aborted.Dispose();
    }
}
