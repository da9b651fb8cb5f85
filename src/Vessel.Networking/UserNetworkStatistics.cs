namespace Vessel.Networking;

/// <summary>Counters of a <see cref="UserNetwork"/>; safe to read from any thread.</summary>
public sealed class UserNetworkStatistics
{
    internal long framesFromGuest;
    internal long framesToGuest;
    internal long malformedFrames;
    internal long checksumErrors;
    internal long unsupportedFrames;
    internal long queueOverflows;
    internal long rejectedConnections;
    internal long internalErrors;
    internal int tcpConnections;
    internal int halfOpenTcpConnections;
    internal int udpFlows;

    public long FramesFromGuest => Interlocked.Read(ref framesFromGuest);

    public long FramesToGuest => Interlocked.Read(ref framesToGuest);

    /// <summary>Frames dropped as too short, too long or structurally invalid (bad header lengths, fragments of nothing).</summary>
    public long MalformedFrames => Interlocked.Read(ref malformedFrames);

    /// <summary>Frames dropped because an IPv4, ICMP, UDP or TCP checksum was wrong.</summary>
    public long ChecksumErrors => Interlocked.Read(ref checksumErrors);

    /// <summary>Well-formed frames the network does not handle (IPv6, IP fragments, other protocols, unreachable addresses).</summary>
    public long UnsupportedFrames => Interlocked.Read(ref unsupportedFrames);

    /// <summary>Frames dropped because the guest sent faster than the network thread could take them.</summary>
    public long QueueOverflows => Interlocked.Read(ref queueOverflows);

    /// <summary>Connections and flows refused because a connection-tracking limit was reached.</summary>
    public long RejectedConnections => Interlocked.Read(ref rejectedConnections);

    /// <summary>Unexpected failures while handling a frame or host event (each one affected only that frame or event).</summary>
    public long InternalErrors => Interlocked.Read(ref internalErrors);

    public int TcpConnections => Volatile.Read(ref tcpConnections);

    public int HalfOpenTcpConnections => Volatile.Read(ref halfOpenTcpConnections);

    public int UdpFlows => Volatile.Read(ref udpFlows);

    public long DroppedFrames => MalformedFrames + ChecksumErrors + UnsupportedFrames + QueueOverflows;
}
