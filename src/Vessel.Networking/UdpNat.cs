using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>
/// UDP through host sockets: each guest (port, destination) pair gets a connected host socket; replies come back
/// from the destination as the guest addressed it. 10.0.2.2 means the host's 127.0.0.1 and 10.0.2.3:53 the host's
/// resolver. Flows are capped and expire when idle so a guest cannot hold host sockets forever.
/// </summary>
internal sealed class UdpNat : IDisposable
{
    private const int MaxDatagram = 65507;
    private readonly UserNetwork network;
    private readonly IPEndPoint resolver;
    private readonly Dictionary<FlowKey, UdpFlow> flows = [];
    private readonly List<Socket> listeners = [];

    public UdpNat(UserNetwork network, IPEndPoint resolver)
    {
        this.network = network;
        this.resolver = resolver;
    }

    public IPEndPoint Listen(PortForward forward)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(forward.HostAddress, forward.HostPort));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new NetworkConfigurationException($"hostfwd {forward}: cannot listen on {forward.HostAddress}:{forward.HostPort}: {e.Message}", e);
        }
        listeners.Add(socket);
        _ = ReceiveForwardedAsync(socket, forward);
        return (IPEndPoint)socket.LocalEndPoint!;
    }

    public void HandleFromGuest(uint source, uint destination, ReadOnlySpan<byte> udp)
    {
        ushort sourcePort = BinaryPrimitives.ReadUInt16BigEndian(udp);
        ushort destinationPort = BinaryPrimitives.ReadUInt16BigEndian(udp[2..]);
        ReadOnlySpan<byte> payload = udp[8..];
        var key = new FlowKey(source, sourcePort, destination, destinationPort);
        if (!flows.TryGetValue(key, out UdpFlow? flow))
        {
            IPEndPoint? target = HostTarget(destination, destinationPort);
            if (target == null || destinationPort == 0)
            {
                network.CountUnsupported();
                return;
            }
            if (flows.Count >= network.Options.MaxUdpFlows)
            {
                network.CountRejected();
                return;
            }
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.Connect(target);
            }
            catch (SocketException)
            {
                socket.Dispose();
                network.CountUnsupported();
                return;
            }
            flow = new UdpFlow(key, socket, null, ownsSocket: true, network.NowMilliseconds);
            flows.Add(key, flow);
            Volatile.Write(ref network.Statistics.udpFlows, flows.Count);
            _ = ReceiveFlowAsync(flow);
        }
        flow.LastUsed = network.NowMilliseconds;
        try
        {
            // Non-blocking best effort, like a real network: a full host send buffer drops the datagram.
            if (flow.Peer == null)
            {
                flow.Socket.Send(payload, SocketFlags.None, out _);
            }
            else
            {
                flow.Socket.SendTo(payload, SocketFlags.None, flow.Peer);
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Where a guest datagram goes on the host, or null if the address is not reachable from the guest.</summary>
    private IPEndPoint? HostTarget(uint destination, ushort port)
    {
        if (destination == UserNetworkAddresses.GatewayValue)
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }
        if (destination == UserNetworkAddresses.DnsValue)
        {
            return port == 53 ? resolver : null;
        }
        if ((destination & UserNetworkAddresses.NetmaskValue) == UserNetworkAddresses.NetworkValue || destination >> 24 == 127
            || destination >> 24 == 0)
        {
            return null;
        }
        return new IPEndPoint(UserNetworkAddresses.FromValue(destination), port);
    }

    public void OnTimer(long now)
    {
        long idle = (long)network.Options.UdpIdleTimeout.TotalMilliseconds;
        List<FlowKey>? expired = null;
        foreach (var (key, flow) in flows)
        {
            if (now - flow.LastUsed > idle)
            {
                (expired ??= []).Add(key);
            }
        }
        if (expired != null)
        {
            foreach (FlowKey key in expired)
            {
                Remove(key);
            }
        }
    }

    private void Remove(FlowKey key)
    {
        if (flows.Remove(key, out UdpFlow? flow) && flow.OwnsSocket)
        {
            flow.Socket.Dispose();
        }
        Volatile.Write(ref network.Statistics.udpFlows, flows.Count);
    }

    private async Task ReceiveFlowAsync(UdpFlow flow)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxDatagram);
        try
        {
            while (true)
            {
                int received = await flow.Socket.ReceiveAsync(buffer.AsMemory(0, MaxDatagram), SocketFlags.None, network.Stopping);
                byte[] copy = buffer.AsSpan(0, received).ToArray();
                network.Post(() => DeliverToGuest(flow, copy));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // ICMP port-unreachable surfaces as ConnectionReset on a connected socket; the flow is idle-expired later.
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionReset } && !network.Stopping.IsCancellationRequested)
            {
                _ = Task.Run(() => ReceiveFlowAsync(flow));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void DeliverToGuest(UdpFlow flow, byte[] payload)
    {
        if (!flows.TryGetValue(flow.Key, out UdpFlow? current) || current != flow)
        {
            return;
        }
        flow.LastUsed = network.NowMilliseconds;
        SendToGuest(flow.Key, payload);
    }

    private void SendToGuest(FlowKey key, ReadOnlySpan<byte> payload)
    {
        int length = 8 + payload.Length;
        byte[] frame = UserNetwork.RentFrame(length, out Span<byte> udp);
        try
        {
            BinaryPrimitives.WriteUInt16BigEndian(udp, key.RemotePort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], key.GuestPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)length);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
            payload.CopyTo(udp[8..]);
            network.TransmitIpv4(frame, key.RemoteAddress, key.GuestAddress, UserNetwork.ProtocolUdp, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async Task ReceiveForwardedAsync(Socket socket, PortForward forward)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxDatagram);
        try
        {
            while (true)
            {
                SocketReceiveFromResult result;
                try
                {
                    result = await socket.ReceiveFromAsync(buffer.AsMemory(0, MaxDatagram), SocketFlags.None,
                        new IPEndPoint(IPAddress.Any, 0), network.Stopping);
                }
                catch (SocketException)
                {
                    await Task.Delay(10); // a previous reply's ICMP error, or a transient failure: back off rather than spin
                    continue;
                }
                byte[] copy = buffer.AsSpan(0, result.ReceivedBytes).ToArray();
                var peer = (IPEndPoint)result.RemoteEndPoint;
                network.Post(() => ForwardToGuest(socket, forward, peer, copy));
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ForwardToGuest(Socket socket, PortForward forward, IPEndPoint peer, byte[] payload)
    {
        // The guest sees the datagram come from the gateway at the host peer's port, as with slirp.
        var key = new FlowKey(UserNetworkAddresses.ToValue(forward.GuestAddress), (ushort)forward.GuestPort,
            UserNetworkAddresses.GatewayValue, (ushort)peer.Port);
        if (!flows.TryGetValue(key, out UdpFlow? flow))
        {
            if (flows.Count >= network.Options.MaxUdpFlows)
            {
                network.CountRejected();
                return;
            }
            flow = new UdpFlow(key, socket, peer, ownsSocket: false, network.NowMilliseconds);
            flows.Add(key, flow);
            Volatile.Write(ref network.Statistics.udpFlows, flows.Count);
        }
        flow.LastUsed = network.NowMilliseconds;
        SendToGuest(key, payload);
    }

    public void Dispose()
    {
        foreach (UdpFlow flow in flows.Values)
        {
            if (flow.OwnsSocket)
            {
                flow.Socket.Dispose();
            }
        }
        flows.Clear();
        foreach (Socket socket in listeners)
        {
            socket.Dispose();
        }
    }
}
