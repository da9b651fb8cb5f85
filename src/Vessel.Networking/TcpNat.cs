using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>
/// TCP through host sockets: the guest's connections are terminated by <see cref="TcpConnection"/> and relayed to
/// host sockets (10.0.2.2 is the host's 127.0.0.1), and <c>hostfwd=tcp</c> listeners open connections to the guest.
/// The number of connections, and of those still in their handshake, is capped.
/// </summary>
internal sealed class TcpNat : IDisposable
{
    private readonly UserNetwork network;
    private readonly Dictionary<FlowKey, TcpConnection> connections = [];
    private readonly List<Socket> listeners = [];
    private int halfOpen;

    public TcpNat(UserNetwork network) => this.network = network;

    public IPEndPoint Listen(PortForward forward)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(forward.HostAddress, forward.HostPort));
            socket.Listen(64);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new NetworkConfigurationException($"hostfwd {forward}: cannot listen on {forward.HostAddress}:{forward.HostPort}: {e.Message}", e);
        }
        listeners.Add(socket);
        _ = AcceptAsync(socket, forward);
        return (IPEndPoint)socket.LocalEndPoint!;
    }

    private async Task AcceptAsync(Socket listener, PortForward forward)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(network.Stopping);
            }
            catch (SocketException)
            {
                await Task.Delay(50); // e.g. out of file descriptors: back off rather than spin
                continue;
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            network.Post(() => OpenForwarded(client, forward));
        }
    }

    private void OpenForwarded(Socket client, PortForward forward)
    {
        if (connections.Count >= network.Options.MaxTcpConnections || halfOpen >= network.Options.MaxHalfOpenTcpConnections)
        {
            network.CountRejected();
            client.Dispose();
            return;
        }
        // The guest sees the connection come from the gateway, at the host client's port if that is free.
        uint guest = UserNetworkAddresses.ToValue(forward.GuestAddress);
        ushort port = (ushort)((IPEndPoint)client.RemoteEndPoint!).Port;
        var key = new FlowKey(guest, (ushort)forward.GuestPort, UserNetworkAddresses.GatewayValue, port);
        for (int attempt = 0; connections.ContainsKey(key) || key.RemotePort < 1024; attempt++)
        {
            if (attempt > 64)
            {
                network.CountRejected();
                client.Dispose();
                return;
            }
            key = key with { RemotePort = (ushort)Random.Shared.Next(32768, 61000) };
        }
        var connection = new TcpConnection(this, network, key, TcpState.SynSent, network.NowMilliseconds);
        Add(connection);
        connection.StartForwarded(client);
    }

    public void HandleFromGuest(uint source, uint destination, ReadOnlySpan<byte> payload)
    {
        if (!TcpSegment.TryParse(payload, out TcpSegment segment))
        {
            network.CountMalformed();
            return;
        }
        var key = new FlowKey(source, segment.SourcePort, destination, segment.DestinationPort);
        if (connections.TryGetValue(key, out TcpConnection? connection))
        {
            connection.HandleSegment(segment);
            return;
        }
        if (segment.Has(TcpSegment.Rst))
        {
            return;
        }
        if (!segment.Has(TcpSegment.Syn) || segment.Has(TcpSegment.Ack))
        {
            // RFC 9293 §3.10.7.1: a segment for no connection is answered with a reset.
            if (segment.Has(TcpSegment.Ack))
            {
                SendReset(network, key, segment.Acknowledgment, 0, withAck: false);
            }
            else
            {
                SendReset(network, key, 0, segment.Sequence + (uint)segment.SequenceLength, withAck: true);
            }
            return;
        }
        IPEndPoint? target = HostTarget(destination, segment.DestinationPort);
        if (target == null)
        {
            SendReset(network, key, 0, segment.Sequence + 1, withAck: true);
            return;
        }
        if (halfOpen >= network.Options.MaxHalfOpenTcpConnections)
        {
            // SYN-flood guard: stay silent; a genuine guest retransmits its SYN once the backlog drains.
            network.CountRejected();
            return;
        }
        if (connections.Count >= network.Options.MaxTcpConnections)
        {
            network.CountRejected();
            SendReset(network, key, 0, segment.Sequence + 1, withAck: true);
            return;
        }
        connection = new TcpConnection(this, network, key, TcpState.ConnectingHost, network.NowMilliseconds);
        Add(connection);
        connection.StartOutbound(segment, target);
    }

    private static IPEndPoint? HostTarget(uint destination, ushort port)
    {
        if (port == 0)
        {
            return null;
        }
        if (destination == UserNetworkAddresses.GatewayValue)
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }
        if ((destination & UserNetworkAddresses.NetmaskValue) == UserNetworkAddresses.NetworkValue || destination >> 24 == 127
            || destination >> 24 == 0)
        {
            return null;
        }
        return new IPEndPoint(UserNetworkAddresses.FromValue(destination), port);
    }

    private void Add(TcpConnection connection)
    {
        connections.Add(connection.Key, connection);
        halfOpen++;
        PublishCounts();
    }

    public void OnEstablished(TcpConnection connection)
    {
        halfOpen--;
        PublishCounts();
    }

    public bool Contains(TcpConnection connection) =>
        connections.TryGetValue(connection.Key, out TcpConnection? current) && current == connection;

    public void Remove(TcpConnection connection)
    {
        if (!Contains(connection))
        {
            return;
        }
        if (connection.IsHalfOpen)
        {
            halfOpen--;
        }
        connections.Remove(connection.Key);
        connection.Release();
        PublishCounts();
    }

    private void PublishCounts()
    {
        Volatile.Write(ref network.Statistics.tcpConnections, connections.Count);
        Volatile.Write(ref network.Statistics.halfOpenTcpConnections, halfOpen);
    }

    public void OnTimer(long now)
    {
        if (connections.Count == 0)
        {
            return;
        }
        TcpConnection[] snapshot = ArrayPool<TcpConnection>.Shared.Rent(connections.Count);
        int count = 0;
        foreach (TcpConnection connection in connections.Values)
        {
            snapshot[count++] = connection;
        }
        try
        {
            for (int i = 0; i < count; i++)
            {
                snapshot[i].OnTimer(now);
            }
        }
        finally
        {
            ArrayPool<TcpConnection>.Shared.Return(snapshot, clearArray: true);
        }
    }

    /// <summary>Sends a bare RST (optionally with ACK) toward the guest for <paramref name="key"/>.</summary>
    public static void SendReset(UserNetwork network, FlowKey key, uint sequence, uint acknowledgment, bool withAck)
    {
        byte[] frame = UserNetwork.RentFrame(20, out Span<byte> tcp);
        try
        {
            tcp.Clear();
            BinaryPrimitives.WriteUInt16BigEndian(tcp, key.RemotePort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], key.GuestPort);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], withAck ? acknowledgment : 0);
            tcp[12] = 5 << 4;
            tcp[13] = (byte)(TcpSegment.Rst | (withAck ? TcpSegment.Ack : 0));
            network.TransmitIpv4(frame, key.RemoteAddress, key.GuestAddress, UserNetwork.ProtocolTcp, 20);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    public void Dispose()
    {
        foreach (TcpConnection connection in connections.Values.ToArray())
        {
            connection.Release();
        }
        connections.Clear();
        foreach (Socket socket in listeners)
        {
            socket.Dispose();
        }
    }
}
