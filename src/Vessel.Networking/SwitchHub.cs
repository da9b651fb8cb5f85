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
    /// How long the hub waits for room in one port's queue before dropping the frame: short, since every port's
    /// traffic waits meanwhile; a port's own reader drains its queue in microseconds.
    /// </summary>
    private static readonly TimeSpan SendPatience = TimeSpan.FromMilliseconds(20);
    private readonly Socket socket;
    private readonly FileStream lockFile;
    private readonly string socketPath;
    private readonly Lock gate = new();
    private readonly Dictionary<string, long> ports = [];
    private readonly Dictionary<MacAddress, (string Port, long Seen)> macs = [];
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
        _ = RunAsync();
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

    private async Task RunAsync()
    {
        byte[] buffer = new byte[MaxFrame];
        while (!stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new UnixDomainSocketEndPoint(socketPath), stopping.Token);
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            if (result.RemoteEndPoint is not UnixDomainSocketEndPoint { } from || from.ToString() is not { Length: > 0 } sender)
            {
                continue; // an unbound sender cannot be answered
            }
            Forward(sender, buffer.AsSpan(0, result.ReceivedBytes));
        }
    }

    private void Forward(string sender, ReadOnlySpan<byte> frame)
    {
        long now = Environment.TickCount64;
        lock (gate)
        {
            ports[sender] = now;
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
            if (!destination.IsMulticast && macs.TryGetValue(destination, out var entry) && ports.ContainsKey(entry.Port))
            {
                if (entry.Port != sender)
                {
                    SendTo(entry.Port, frame);
                }
                return;
            }
            foreach (string port in ports.Keys.ToArray())
            {
                if (port != sender)
                {
                    SendTo(port, frame);
                }
            }
        }
    }

    private void SendTo(string port, ReadOnlySpan<byte> frame)
    {
        try
        {
            if (!DatagramBackpressure.TrySend(socket, frame, new UnixDomainSocketEndPoint(port), SendPatience))
            {
                Interlocked.Increment(ref droppedFrames); // the port's queue stayed full: drop, as a congested switch would
            }
        }
        catch (SocketException)
        {
            ports.Remove(port); // gone (its socket file was removed or nobody listens)
        }
    }

    /// <summary>Forgets ports that stopped saying hello and MAC entries past their age; picks up DHCP settings changes.</summary>
    public void Age()
    {
        ReloadDhcp();
        long now = Environment.TickCount64;
        lock (gate)
        {
            foreach (var (port, seen) in ports.ToArray())
            {
                if (now - seen > PortTimeoutMs)
                {
                    ports.Remove(port);
                }
            }
            foreach (var (mac, entry) in macs.ToArray())
            {
                if (now - entry.Seen > MacAgingMs || !ports.ContainsKey(entry.Port))
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
}
