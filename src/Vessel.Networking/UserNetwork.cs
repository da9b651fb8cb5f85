using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;

namespace Vessel.Networking;

/// <summary>
/// User-mode NAT networking with QEMU slirp's addressing (10.0.2.0/24, gateway 10.0.2.2, DNS 10.0.2.3, guest 10.0.2.15):
/// a DHCP server, ARP and ICMP echo for its own addresses, DNS relay to the host resolver, and UDP/TCP carried
/// over ordinary host sockets, so it needs no privileges. Port forwards (<c>hostfwd=</c>) listen on the host.
/// </summary>
/// <remarks>
/// Threading: one network thread owns all state. <see cref="Send"/> only copies the frame into a bounded queue,
/// and host-socket completions post work items; the network thread runs both, the timers, and is the only
/// caller of the attached <see cref="IFrameReceiver"/>. So the NIC's thread never blocks on host I/O and
/// the receiver is never re-entered.
/// </remarks>
public sealed class UserNetwork : IEthernetPort
{
    internal const int EthernetHeaderLength = 14;
    internal const int Ipv4HeaderLength = 20;
    internal const int TransportOffset = EthernetHeaderLength + Ipv4HeaderLength;
    internal const int MaxFrameLength = EthernetHeaderLength + 65535;
    internal const int LinkMtu = 1500;
    internal const byte ProtocolIcmp = 1;
    internal const byte ProtocolTcp = 6;
    internal const byte ProtocolUdp = 17;
    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeArp = 0x0806;
    private const int MaxQueuedGuestFrames = 4096;
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(20);

    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> guestFrames = new();
    private readonly ConcurrentQueue<Action> work = new();
    private readonly AutoResetEvent wake = new(false);
    private readonly Thread thread;
    private readonly CancellationTokenSource stopping = new();
    private readonly DhcpServer dhcp;
    private readonly UdpNat udp;
    private readonly TcpNat tcp;
    private IFrameReceiver? receiver;
    private int queuedGuestFrames;
    private ushort ipIdentification;
    private MacAddress guestMac;
    private bool guestMacKnown;
    private bool disposed;

    public UserNetwork(UserNetworkOptions? options = null)
    {
        Options = options ?? new UserNetworkOptions();
        Statistics = new UserNetworkStatistics();
        IPEndPoint resolver = Options.DnsServer ?? DefaultResolver();
        dhcp = new DhcpServer(this);
        udp = new UdpNat(this, resolver);
        tcp = new TcpNat(this);
        try
        {
            var listeners = new List<IPEndPoint>();
            foreach (PortForward forward in Options.HostForwards)
            {
                listeners.Add(forward.Protocol == ForwardProtocol.Tcp ? tcp.Listen(forward) : udp.Listen(forward));
            }
            ForwardEndpoints = listeners;
        }
        catch
        {
            stopping.Cancel();
            tcp.Dispose();
            udp.Dispose();
            throw;
        }
        thread = new Thread(Run) { IsBackground = true, Name = "vessel-usernet" };
        thread.Start();
    }

    public UserNetworkOptions Options { get; }

    public UserNetworkStatistics Statistics { get; }

    /// <summary>The host endpoints the port forwards listen on, in <see cref="UserNetworkOptions.HostForwards"/> order (port 0 resolved).</summary>
    public IReadOnlyList<IPEndPoint> ForwardEndpoints { get; }

    internal CancellationToken Stopping => stopping.Token;

    internal long NowMilliseconds => Environment.TickCount64;

    public void Attach(IFrameReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        Volatile.Write(ref this.receiver, receiver);
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        Interlocked.Increment(ref Statistics.framesFromGuest);
        if (frame.Length < EthernetHeaderLength || frame.Length > MaxFrameLength)
        {
            Interlocked.Increment(ref Statistics.malformedFrames);
            return;
        }
        if (Volatile.Read(ref disposed) || Interlocked.Increment(ref queuedGuestFrames) > MaxQueuedGuestFrames)
        {
            Interlocked.Decrement(ref queuedGuestFrames);
            Interlocked.Increment(ref Statistics.queueOverflows);
            return;
        }
        byte[] copy = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(copy);
        guestFrames.Enqueue((copy, frame.Length));
        try
        {
            wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: the frame is dropped with the rest of the queue.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, true))
        {
            return;
        }
        stopping.Cancel();
        wake.Set();
        if (Thread.CurrentThread != thread)
        {
            thread.Join();
        }
        tcp.Dispose();
        udp.Dispose();
        while (guestFrames.TryDequeue(out var item))
        {
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
        wake.Dispose();
        stopping.Dispose();
    }

    /// <summary>Runs <paramref name="action"/> on the network thread (from host-socket completions).</summary>
    internal void Post(Action action)
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }
        work.Enqueue(action);
        try
        {
            wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the signal: the item is simply never run.
        }
    }

    private static IPEndPoint DefaultResolver()
    {
        IPAddress? address = null;
        try
        {
            address = UserNetworkOptions.ReadNameserver(File.ReadAllText("/etc/resolv.conf"));
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return new IPEndPoint(address ?? IPAddress.Parse("127.0.0.53"), 53);
    }

    private void Run()
    {
        long nextTick = NowMilliseconds;
        while (!stopping.IsCancellationRequested)
        {
            long wait = Math.Max(0, nextTick - NowMilliseconds);
            wake.WaitOne(TimeSpan.FromMilliseconds(wait));
            while (work.TryDequeue(out Action? action))
            {
                RunGuarded(action);
            }
            while (guestFrames.TryDequeue(out var item))
            {
                Interlocked.Decrement(ref queuedGuestFrames);
                try
                {
                    HandleGuestFrame(item.Buffer.AsSpan(0, item.Length));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A slip on one frame must not stop the network for every other flow: count it and go on.
                    Interlocked.Increment(ref Statistics.internalErrors);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer);
                }
                // Host events get a turn between guest frames so a flooding guest cannot starve them.
                while (work.TryDequeue(out Action? action))
                {
                    RunGuarded(action);
                }
            }
            if (NowMilliseconds >= nextTick)
            {
                long now = NowMilliseconds;
                RunGuarded(() => tcp.OnTimer(now));
                RunGuarded(() => udp.OnTimer(now));
                nextTick = now + (long)TickInterval.TotalMilliseconds;
            }
        }
    }

    private void RunGuarded(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Increment(ref Statistics.internalErrors);
        }
    }

    internal void CountMalformed() => Interlocked.Increment(ref Statistics.malformedFrames);

    internal void CountChecksumError() => Interlocked.Increment(ref Statistics.checksumErrors);

    internal void CountUnsupported() => Interlocked.Increment(ref Statistics.unsupportedFrames);

    internal void CountRejected() => Interlocked.Increment(ref Statistics.rejectedConnections);

    private void HandleGuestFrame(ReadOnlySpan<byte> frame)
    {
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        switch (etherType)
        {
            case EtherTypeArp:
                HandleArp(frame);
                break;
            case EtherTypeIpv4:
                HandleIpv4(frame);
                break;
            default:
                CountUnsupported();
                break;
        }
    }

    private static bool IsOwnAddress(uint address) =>
        address == UserNetworkAddresses.GatewayValue || address == UserNetworkAddresses.DnsValue;

    // RFC 826: answer requests for the network's own addresses; learn the guest's MAC from anything it says.
    private void HandleArp(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> arp = frame[EthernetHeaderLength..];
        if (arp.Length < 28 || BinaryPrimitives.ReadUInt16BigEndian(arp) != 1
            || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != EtherTypeIpv4 || arp[4] != 6 || arp[5] != 4)
        {
            CountMalformed();
            return;
        }
        ushort operation = BinaryPrimitives.ReadUInt16BigEndian(arp[6..]);
        MacAddress senderMac = MacAddress.Read(arp[8..]);
        uint senderIp = BinaryPrimitives.ReadUInt32BigEndian(arp[14..]);
        uint targetIp = BinaryPrimitives.ReadUInt32BigEndian(arp[24..]);
        if (IsGuestAddress(senderIp) && !senderMac.IsMulticast)
        {
            LearnGuestMac(senderMac);
        }
        if (operation != 1 || !IsOwnAddress(targetIp))
        {
            return;
        }
        byte[] reply = ArrayPool<byte>.Shared.Rent(ArpReply.FrameLength);
        try
        {
            Span<byte> r = reply.AsSpan(0, ArpReply.FrameLength);
            ArpReply.Write(r, UserNetworkAddresses.MacFor(targetIp), targetIp, senderMac, senderIp);
            Deliver(r);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(reply);
        }
    }

    internal static bool IsGuestAddress(uint address) =>
        (address & UserNetworkAddresses.NetmaskValue) == UserNetworkAddresses.NetworkValue
        && !IsOwnAddress(address) && address != UserNetworkAddresses.NetworkValue && address != UserNetworkAddresses.BroadcastValue;

    internal void LearnGuestMac(MacAddress mac)
    {
        guestMac = mac;
        guestMacKnown = true;
    }

    // RFC 791 header checks; fragments are not reassembled (a guest with MTU 1500 and TCP never fragments).
    private void HandleIpv4(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> ip = frame[EthernetHeaderLength..];
        if (ip.Length < Ipv4HeaderLength || ip[0] >> 4 != 4)
        {
            CountMalformed();
            return;
        }
        int headerLength = (ip[0] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (headerLength < Ipv4HeaderLength || totalLength < headerLength || totalLength > ip.Length)
        {
            CountMalformed();
            return;
        }
        if (InternetChecksum.Compute(ip[..headerLength]) != 0)
        {
            CountChecksumError();
            return;
        }
        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        if ((fragment & 0x3FFF) != 0)
        {
            CountUnsupported();
            return;
        }
        byte protocol = ip[9];
        uint source = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        uint destination = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        ReadOnlySpan<byte> payload = ip[headerLength..totalLength];
        MacAddress sourceMac = MacAddress.Read(frame[6..]);

        if (protocol == ProtocolUdp && payload.Length >= 8 && BinaryPrimitives.ReadUInt16BigEndian(payload[2..]) == DhcpServer.ServerPort
            && (destination == 0xFFFF_FFFF || destination == UserNetworkAddresses.GatewayValue))
        {
            if (VerifyTransportChecksum(source, destination, protocol, payload))
            {
                dhcp.Handle(sourceMac, payload[8..]);
            }
            return;
        }
        if (!IsGuestAddress(source) || destination == 0xFFFF_FFFF || destination == UserNetworkAddresses.BroadcastValue
            || (destination >> 28) == 0xE)
        {
            CountUnsupported();
            return;
        }
        if (!sourceMac.IsMulticast)
        {
            LearnGuestMac(sourceMac);
        }
        if (!VerifyTransportChecksum(source, destination, protocol, payload))
        {
            return;
        }
        switch (protocol)
        {
            case ProtocolIcmp:
                HandleIcmp(source, destination, payload);
                break;
            case ProtocolUdp:
                udp.HandleFromGuest(source, destination, payload);
                break;
            case ProtocolTcp:
                tcp.HandleFromGuest(source, destination, payload);
                break;
            default:
                CountUnsupported();
                break;
        }
    }

    /// <summary>Checks the ICMP/UDP/TCP checksum (RFC 792/768/9293); a zero UDP checksum means none was sent (RFC 768).</summary>
    private bool VerifyTransportChecksum(uint source, uint destination, byte protocol, ReadOnlySpan<byte> payload)
    {
        switch (protocol)
        {
            case ProtocolIcmp:
                if (payload.Length < 8)
                {
                    CountMalformed();
                    return false;
                }
                if (InternetChecksum.Compute(payload) != 0)
                {
                    CountChecksumError();
                    return false;
                }
                return true;
            case ProtocolUdp:
                if (payload.Length < 8 || BinaryPrimitives.ReadUInt16BigEndian(payload[4..]) != payload.Length)
                {
                    CountMalformed();
                    return false;
                }
                if (BinaryPrimitives.ReadUInt16BigEndian(payload[6..]) == 0)
                {
                    return true;
                }
                break;
            case ProtocolTcp:
                if (payload.Length < 20)
                {
                    CountMalformed();
                    return false;
                }
                break;
            default:
                return true;
        }
        uint sum = InternetChecksum.PseudoHeader(source, destination, protocol, payload.Length);
        if (InternetChecksum.Finish(InternetChecksum.Add(sum, payload)) != 0)
        {
            CountChecksumError();
            return false;
        }
        return true;
    }

    // RFC 792: echo requests to the gateway and DNS addresses are answered here; other destinations are not reachable.
    private void HandleIcmp(uint source, uint destination, ReadOnlySpan<byte> icmp)
    {
        if (icmp[0] != 8 || icmp[1] != 0 || !IsOwnAddress(destination))
        {
            CountUnsupported();
            return;
        }
        byte[] frame = RentFrame(icmp.Length, out Span<byte> transport);
        try
        {
            icmp.CopyTo(transport);
            transport[0] = 0;
            transport[2] = 0;
            transport[3] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(transport[2..], InternetChecksum.Compute(transport));
            TransmitIpv4(frame, destination, source, ProtocolIcmp, icmp.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Rents a buffer for an IPv4 frame and returns the span where the transport header and payload go.</summary>
    internal static byte[] RentFrame(int transportLength, out Span<byte> transport)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(TransportOffset + transportLength);
        transport = frame.AsSpan(TransportOffset, transportLength);
        return frame;
    }

    /// <summary>
    /// Fills the Ethernet and IPv4 headers in front of a transport segment already written at <see cref="TransportOffset"/>,
    /// computes the UDP/TCP checksum (its field must hold zero), and delivers the frame toward the guest.
    /// </summary>
    internal void TransmitIpv4(byte[] frame, uint source, uint destination, byte protocol, int transportLength, MacAddress? destinationMac = null)
    {
        Span<byte> f = frame.AsSpan(0, TransportOffset + transportLength);
        Span<byte> transport = f[TransportOffset..];
        if (protocol is ProtocolUdp or ProtocolTcp)
        {
            int field = protocol == ProtocolUdp ? 6 : 16;
            uint sum = InternetChecksum.PseudoHeader(source, destination, protocol, transportLength);
            ushort checksum = InternetChecksum.Finish(InternetChecksum.Add(sum, transport));
            // RFC 768: a computed UDP checksum of zero is sent as all ones.
            BinaryPrimitives.WriteUInt16BigEndian(transport[field..], protocol == ProtocolUdp && checksum == 0 ? (ushort)0xFFFF : checksum);
        }
        Span<byte> ip = f[EthernetHeaderLength..TransportOffset];
        ip[0] = 0x45;
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderLength + transportLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], ipIdentification++);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF; large datagrams are fragmented below instead
        ip[8] = 64;
        ip[9] = protocol;
        ip[10] = 0;
        ip[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], destination);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip));

        MacAddress target;
        if (destinationMac is { } explicitMac)
        {
            target = explicitMac;
        }
        else if (guestMacKnown)
        {
            target = guestMac;
        }
        else
        {
            // The guest has not spoken yet (e.g. a forwarded connection before its first packet): ask for its MAC;
            // the segment's own retransmission delivers it once the guest answers.
            SendArpRequest(destination);
            return;
        }
        target.Write(f);
        UserNetworkAddresses.MacFor(IsOwnAddress(source) ? source : UserNetworkAddresses.GatewayValue).Write(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherTypeIpv4);
        if (Ipv4HeaderLength + transportLength <= LinkMtu)
        {
            Deliver(f);
        }
        else
        {
            DeliverFragmented(f, transportLength);
        }
    }

    /// <summary>
    /// Splits a datagram larger than the guest's 1500-byte MTU into IPv4 fragments (RFC 791 §3.2), as a router would;
    /// only UDP from host sockets gets here (TCP segments are sized by the MSS).
    /// </summary>
    private void DeliverFragmented(ReadOnlySpan<byte> whole, int transportLength)
    {
        const int FragmentPayload = (LinkMtu - Ipv4HeaderLength) & ~7;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(TransportOffset + FragmentPayload);
        try
        {
            for (int offset = 0; offset < transportLength; offset += FragmentPayload)
            {
                int length = Math.Min(FragmentPayload, transportLength - offset);
                Span<byte> fragment = buffer.AsSpan(0, TransportOffset + length);
                whole[..TransportOffset].CopyTo(fragment);
                whole.Slice(TransportOffset + offset, length).CopyTo(fragment[TransportOffset..]);
                Span<byte> ip = fragment[EthernetHeaderLength..TransportOffset];
                bool more = offset + length < transportLength;
                BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderLength + length));
                BinaryPrimitives.WriteUInt16BigEndian(ip[6..], (ushort)((more ? 0x2000 : 0) | (offset / 8)));
                ip[10] = 0;
                ip[11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip));
                Deliver(fragment);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void SendArpRequest(uint targetIp)
    {
        Span<byte> r = stackalloc byte[42];
        MacAddress ownMac = UserNetworkAddresses.MacFor(UserNetworkAddresses.GatewayValue);
        MacAddress.Broadcast.Write(r);
        ownMac.Write(r[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(r[12..], EtherTypeArp);
        Span<byte> a = r[EthernetHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(a, 1);
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], EtherTypeIpv4);
        a[4] = 6;
        a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a[6..], 1);
        ownMac.Write(a[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(a[14..], UserNetworkAddresses.GatewayValue);
        a.Slice(18, 6).Clear();
        BinaryPrimitives.WriteUInt32BigEndian(a[24..], targetIp);
        Deliver(r);
    }

    private void Deliver(ReadOnlySpan<byte> frame)
    {
        Interlocked.Increment(ref Statistics.framesToGuest);
        Volatile.Read(ref receiver)?.Receive(frame);
    }
}
