using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>A port on a named virtual switch shared by VMs in any process (see <see cref="SwitchNetwork"/>).</summary>
public sealed class SwitchPort : IEthernetPort
{
    /// <summary>How long a frame from the guest may wait for room in the hub's queue (see <see cref="DatagramBackpressure"/>).</summary>
    private static readonly TimeSpan SendPatience = TimeSpan.FromMilliseconds(100);

    private static int portCounter;
    private readonly Socket socket;
    private readonly string socketPath;
    private readonly string lockPath;
    private readonly UnixDomainSocketEndPoint hub;
    private readonly SocketAddress hubAddress; // serialised once: sends allocate nothing
    private readonly string hubPath;
    private readonly Timer keepAlive;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private readonly SwitchDhcpFiles dhcpFiles;
    private SwitchHub? ownHub;
    private IFrameReceiver? receiver;
    private long droppedFrames;
    private bool disposed;

    public SwitchPort(string name, string? runtimeDirectory = null)
        : this(new SwitchPortOptions(name), runtimeDirectory)
    {
    }

    /// <summary>Joins the switch; with <see cref="SwitchPortOptions.Dhcp"/> set, the switch serves DHCP from then on.</summary>
    public SwitchPort(SwitchPortOptions options, string? runtimeDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        string name = options.Name;
        SwitchNetwork.ValidateName(name);
        string directory = SwitchNetwork.PrepareDirectory(runtimeDirectory);
        Name = name;
        hubPath = Path.Combine(directory, name + ".sock");
        dhcpFiles = new SwitchDhcpFiles(directory, name);
        lockPath = Path.Combine(directory, name + ".lock");
        socketPath = Path.Combine(directory, $"{name}.{Environment.ProcessId}.{Interlocked.Increment(ref portCounter)}.port");
        if (socketPath.Length > 107)
        {
            throw new NetworkConfigurationException($"switch socket path '{socketPath}' is longer than a Unix socket address allows (107)");
        }
        hub = new UnixDomainSocketEndPoint(hubPath);
        hubAddress = hub.Serialize();
        // Settings first, so that a hub this port starts below already serves with them.
        dhcpFiles.Configure(name, options.Dhcp, IsHubListening(hub));
        socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            File.Delete(socketPath);
            socket.Bind(new UnixDomainSocketEndPoint(socketPath));
            socket.Blocking = false;
            socket.SendBufferSize = 1 << 20;
            socket.ReceiveBufferSize = 1 << 20;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new NetworkConfigurationException($"cannot open switch port '{socketPath}': {e.Message}", e);
        }
        ownHub = SwitchHub.TryStart(lockPath, hubPath, dhcpFiles);
        SayHello();
        // A dedicated thread, as the hub's: frames keep arriving while the thread pool is busy (see SwitchHub).
        CancellationToken stop = stopping.Token; // taken here: the source may be disposed before the thread starts
        new Thread(() => Receive(stop)) { IsBackground = true, Name = "switch port " + Path.GetFileName(socketPath) }.Start();
        keepAlive = new Timer(_ => OnKeepAlive(), null, 1000, 1000);
    }

    public string Name { get; }

    /// <summary>True while this port's process runs the switch's hub.</summary>
    public bool IsHub => Volatile.Read(ref ownHub) != null;

    /// <summary>The DHCP server while this port's process is the hub and the switch has DHCP settings.</summary>
    internal SwitchDhcpServer? HubDhcp => Volatile.Read(ref ownHub)?.Dhcp;

    /// <summary>Frames not delivered to the hub (none running yet, or its queue was full).</summary>
    public long DroppedFrames => Interlocked.Read(ref droppedFrames);

    public void Attach(IFrameReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        Volatile.Write(ref this.receiver, receiver);
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < UserNetwork.EthernetHeaderLength || frame.Length > UserNetwork.MaxFrameLength || Volatile.Read(ref disposed))
        {
            Interlocked.Increment(ref droppedFrames);
            return;
        }
        try
        {
            if (!DatagramBackpressure.TrySend(socket, frame, hubAddress, SendPatience))
            {
                Interlocked.Increment(ref droppedFrames);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Interlocked.Increment(ref droppedFrames);
        }
    }

    /// <summary>True if some process runs the switch's hub now: a datagram from an unbound socket reaches it (the hub ignores it).</summary>
    private static bool IsHubListening(UnixDomainSocketEndPoint hub)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            probe.SendTo([0], SocketFlags.None, hub);
            return true;
        }
        catch (SocketException)
        {
            return false; // no socket file, or a stale one nobody listens on
        }
    }

    private void SayHello()
    {
        try
        {
            socket.SendTo([0], SocketFlags.None, hub);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // No hub yet: the keep-alive tries to become it.
        }
    }

    private void OnKeepAlive()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            if (ownHub == null)
            {
                try
                {
                    Volatile.Write(ref ownHub, SwitchHub.TryStart(lockPath, hubPath, dhcpFiles));
                }
                catch (NetworkConfigurationException)
                {
                    // Transient (e.g. the directory was cleaned); retried on the next tick.
                }
            }
            ownHub?.Age();
            SayHello();
        }
    }

    private void Receive(CancellationToken stop) => DatagramReceiveLoop.Run(socket, UserNetwork.MaxFrameLength, stop, Deliver);

    private void Deliver(SocketAddress from, ReadOnlySpan<byte> datagram)
    {
        // Only the hub's datagrams are frames for us; anything else on the socket is ignored. Comparing the
        // serialised addresses keeps the per-frame path free of endpoint and string allocations.
        if (datagram.Length >= UserNetwork.EthernetHeaderLength && IsHubAddress(from))
        {
            Volatile.Read(ref receiver)?.Receive(datagram);
        }
    }

    /// <summary>
    /// unix(7): a sockaddr_un is the family then sun_path, whose reported length may or may not count the path's
    /// terminating NUL, so the paths are compared without trailing NULs.
    /// </summary>
    private bool IsHubAddress(SocketAddress from)
    {
        const int PathOffset = sizeof(ushort);
        if (from.Size <= PathOffset)
        {
            return false;
        }
        ReadOnlySpan<byte> received = from.Buffer.Span[PathOffset..from.Size].TrimEnd((byte)0);
        ReadOnlySpan<byte> expected = hubAddress.Buffer.Span[PathOffset..hubAddress.Size].TrimEnd((byte)0);
        return received.SequenceEqual(expected);
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
        }
        keepAlive.Dispose();
        stopping.Cancel();
        socket.Dispose();
        ownHub?.Dispose();
        try
        {
            File.Delete(socketPath);
        }
        catch (IOException)
        {
        }
        stopping.Dispose();
    }
}
