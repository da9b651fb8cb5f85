namespace Vessel.Networking;

/// <summary>Where a NAT'ed TCP connection is in its life (a subset of RFC 9293 §3.3.2 seen from our side).</summary>
internal enum TcpState
{
    /// <summary>The guest's SYN arrived; we are connecting the host socket before answering (so a refusal becomes RST).</summary>
    ConnectingHost,

    /// <summary>We sent SYN to the guest for a port forward and wait for its SYN-ACK.</summary>
    SynSent,

    /// <summary>We answered the guest's SYN with SYN-ACK and wait for its ACK.</summary>
    SynReceived,

    /// <summary>Data flows; either side may have sent FIN already.</summary>
    Established,

    /// <summary>Both FINs exchanged and acknowledged; kept briefly to re-acknowledge a retransmitted FIN.</summary>
    Closed,
}
