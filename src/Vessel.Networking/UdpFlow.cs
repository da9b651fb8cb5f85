using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>
/// One guest UDP conversation carried over a host socket: either a socket of its own connected to the real
/// destination, or (for a <c>hostfwd=udp</c>) the forward's listening socket and the host peer to answer.
/// </summary>
internal sealed class UdpFlow
{
    public UdpFlow(FlowKey key, Socket socket, EndPoint? peer, bool ownsSocket, long now)
    {
        Key = key;
        Socket = socket;
        Peer = peer;
        OwnsSocket = ownsSocket;
        LastUsed = now;
    }

    public FlowKey Key { get; }

    public Socket Socket { get; }

    /// <summary>Where guest datagrams go when the socket is shared (not connected); null when the socket is connected.</summary>
    public EndPoint? Peer { get; }

    public bool OwnsSocket { get; }

    public long LastUsed { get; set; }
}
