using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>
/// The learning bridge behind a switch name (see <see cref="SwitchNetwork"/> for the design). It lives in the
/// process that holds the switch's lock file and forwards datagrams between the ports' sockets.
/// </summary>
internal sealed class SwitchHub : IDisposable
{
    private const int MaxFrame = UserNetwork.MaxFrameLength;
    private const long PortTimeoutMs = 5000;
    private const long MacAgingMs = 300_000; // IEEE 802.1D default ageing time
    private const int MaxMacEntries = 4096;

    /// <summary>
    /// How long the hub waits for room in one port's queue before dropping the frame. A port's reader drains its
    /// queue in microseconds, but on a loaded host its thread can be descheduled for tens of milliseconds. Every
    /// port's traffic waits meanwhile, so a port that exhausts this patience is marked congested and gets only
    /// <see cref="CongestedPatience"/> until a send to it succeeds again: a port that stopped reading costs the
    /// others one stall per congestion episode, not one per frame.
    /// </summary>
    private static readonly TimeSpan SendPatience = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan CongestedPatience = TimeSpan.FromMilliseconds(1);
    private readonly Socket socket;
    private readonly FileStream lockFile;
    private readonly string socketPath;
    private readonly Lock gate = new();
    /// <summary>Ports by the address their datagrams come from; SocketAddress compares by content, so a received address finds its port without allocating.</summary>
    private readonly Dictionary<SocketAddress, HubPort> ports = [];
    private readonly Dictionary<MacAddress, (HubPort Port, long Seen)> macs = [];
    private readonly List<HubPort> gonePorts = []; // reused: ports found dead while flooding, removed after the loop
    private readonly CancellationTokenSource stopping = new();
    private readonly SwitchDhcpFiles dhcpFiles;
    private SwitchDhcpServer? dhcp;
    private long droppedFrames;

    private SwitchHub(FileStream lockFile, Socket socket, string socketPath, SwitchDhcpFiles dhcpFiles)
    {
        this.lockFile = lockFile;
        this.socket = socket;
        this.socketPath = socketPath;
        this.dhcpFiles = dhcpFiles;
        ReloadDhcp();
        // A dedicated thread, not the thread pool: forwarding waits synchronously for room in a port's queue, and
        // on 2 cores a pool thread parked there could keep the ports' own readers (or the VM's devices) waiting for
        // the pool to grow.
        CancellationToken stop = stopping.Token; // taken here: the source may be disposed before the thread starts
        new Thread(() => Run(stop)) { IsBackground = true, Name = "switch hub " + Path.GetFileName(socketPath) }.Start();
    }

    /// <summary>Becomes the hub if no other process is: takes the lock, replaces any stale socket, binds. Null if someone else is.</summary>
    public static SwitchHub? TryStart(string lockPath, string socketPath, SwitchDhcpFiles dhcpFiles)
    {
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive flock(2); the kernel drops it when the holder dies.
            lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            File.Delete(socketPath);
            socket.Bind(new UnixDomainSocketEndPoint(socketPath));
            socket.Blocking = false;
            socket.SendBufferSize = 1 << 20;
            socket.ReceiveBufferSize = 1 << 20;
            return new SwitchHub(lockFile, socket, socketPath, dhcpFiles);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            lockFile.Dispose();
            throw new NetworkConfigurationException($"cannot start switch hub at '{socketPath}': {e.Message}", e);
        }
    }

    /// <summary>Frames dropped because a port's queue stayed full (a congested switch's drops).</summary>
    public long DroppedFrames => Interlocked.Read(ref droppedFrames);

    public int PortCount
    {
        get
        {
            lock (gate)
            {
                return ports.Count;
            }
        }
    }

    /// <summary>The switch's DHCP server while its settings file asks for one (tests read its counters).</summary>
    public SwitchDhcpServer? Dhcp
    {
        get
        {
            lock (gate)
            {
                return dhcp;
            }
        }
    }

    /// <summary>
    /// Starts, changes or stops the DHCP server to match the switch's settings file; any port may have written it.
    /// The lease table is read afresh from its file, where the previous hub left it.
    /// </summary>
    private void ReloadDhcp()
    {
        SwitchDhcpSettings? settings = dhcpFiles.ReadSettings();
        lock (gate)
        {
            if (settings != dhcp?.Settings)
            {
                dhcp = settings is null ? null : new SwitchDhcpServer(settings, new SwitchDhcpLeases(settings, dhcpFiles.LeasesPath));
            }
        }
    }

    private void Run(CancellationToken stop) => DatagramReceiveLoop.Run(socket, MaxFrame, stop, Forward);

    private void Forward(SocketAddress from, ReadOnlySpan<byte> frame)
    {
        long now = Environment.TickCount64;
        lock (gate)
        {
            if (!ports.TryGetValue(from, out HubPort? sender))
            {
                if (HubPort.TryCreate(from) is not { } joined)
                {
                    return; // an unbound sender cannot be answered
                }
                sender = joined;
                ports[sender.Address] = sender;
            }
            sender.Seen = now;
            if (frame.Length < UserNetwork.EthernetHeaderLength)
            {
                return; // hello / keep-alive
            }
            var destination = MacAddress.Read(frame);
            var source = MacAddress.Read(frame[6..]);
            if (!source.IsMulticast && (macs.Count < MaxMacEntries || macs.ContainsKey(source)))
            {
                macs[source] = (sender, now);
            }
            if (dhcp != null && dhcp.TryHandle(frame, out byte[]? reply))
            {
                if (reply != null)
                {
                    SendTo(sender, reply);
                }
                return;
            }
            if (!destination.IsMulticast && macs.TryGetValue(destination, out var entry) && ports.ContainsKey(entry.Port.Address))
            {
                if (entry.Port != sender)
                {
                    SendTo(entry.Port, frame);
                }
                return;
            }
            foreach (HubPort port in ports.Values)
            {
                if (port != sender)
                {
                    SendTo(port, frame);
                }
            }
            foreach (HubPort gone in gonePorts)
            {
                ports.Remove(gone.Address);
            }
            gonePorts.Clear();
        }
    }

    private void SendTo(HubPort port, ReadOnlySpan<byte> frame)
    {
        try
        {
            if (DatagramBackpressure.TrySend(socket, frame, port.Address, port.Congested ? CongestedPatience : SendPatience))
            {
                port.Congested = false;
            }
            else
            {
                port.Congested = true;
                Interlocked.Increment(ref droppedFrames); // the port's queue stayed full: drop, as a congested switch would
            }
        }
        catch (SocketException)
        {
            gonePorts.Add(port); // gone (its socket file was removed or nobody listens); removed once no loop walks the table
        }
    }

    /// <summary>Forgets ports that stopped saying hello and MAC entries past their age; picks up DHCP settings changes.</summary>
    public void Age()
    {
        ReloadDhcp();
        long now = Environment.TickCount64;
        lock (gate)
        {
            foreach (var gone in gonePorts)
            {
                ports.Remove(gone.Address);
            }
            gonePorts.Clear();
            foreach (var (address, port) in ports.ToArray())
            {
                if (now - port.Seen > PortTimeoutMs)
                {
                    ports.Remove(address);
                }
            }
            foreach (var (mac, entry) in macs.ToArray())
            {
                if (now - entry.Seen > MacAgingMs || !ports.ContainsKey(entry.Port.Address))
                {
                    macs.Remove(mac);
                }
            }
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        socket.Dispose();
        try
        {
            File.Delete(socketPath);
        }
        catch (IOException)
        {
        }
        lockFile.Dispose();
    }

    /// <summary>A port as the hub knows it: its own copy of the sender's address (the receive buffer is reused) and when it last spoke.</summary>
    private sealed class HubPort(SocketAddress address)
    {
        public SocketAddress Address { get; } = address;

        public long Seen { get; set; }

        /// <summary>The last send to this port found its queue full for the whole patience; cleared by a send that fits.</summary>
        public bool Congested { get; set; }

        /// <summary>A port for a datagram's sender; null for an unbound (unnamed) socket, which cannot be answered.</summary>
        public static HubPort? TryCreate(SocketAddress from)
        {
            // unix(7): an unnamed socket's address is just the family (sizeof(sa_family_t) bytes).
            if (from.Size <= sizeof(ushort))
            {
                return null;
            }
            var copy = new SocketAddress(AddressFamily.Unix, from.Size);
            from.Buffer[..from.Size].CopyTo(copy.Buffer);
            return new HubPort(copy);
        }
    }
}
