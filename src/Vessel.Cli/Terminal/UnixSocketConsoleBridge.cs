using System.Net.Sockets;
using System.Threading.Channels;
using Vessel.Devices.Virtio;

namespace Vessel.Cli.Terminal;

/// <summary>
/// Serves a virtio-console port on a Unix socket (like QEMU's <c>-chardev socket,server=on,wait=off</c>): one client
/// at a time reads what the guest writes to <c>/dev/hvc0</c> and writes its input. Guest output waits in a bounded
/// queue until a client reads it (so nothing written just before a client connects is lost); when the queue is full
/// the oldest output goes first, so a missing or slow client can never stall the guest.
/// </summary>
public sealed class UnixSocketConsoleBridge : IDisposable
{
    private const int OutputQueueChunks = 1024;

    private readonly string _path;
    private readonly Socket _listener;
    private readonly Channel<byte[]> _output = Channel.CreateBounded<byte[]>(
        new BoundedChannelOptions(OutputQueueChunks) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private VirtioConsole? _console;
    private volatile Socket? _client;
    private int _started;
    private readonly SemaphoreSlim _clientConnected = new(0);

    private UnixSocketConsoleBridge(string path, Socket listener)
    {
        _path = path;
        _listener = listener;
    }

    /// <summary>Listens on <paramref name="path"/>, replacing a stale socket but never a file with data.</summary>
    public static UnixSocketConsoleBridge Listen(string path)
    {
        // A leftover socket from an earlier run is replaced; anything holding data is not (sockets have length 0).
        var info = new FileInfo(path);
        if (Directory.Exists(path) || (info.Exists && info.Length > 0))
        {
            throw new IOException($"{path}: exists and is not a socket");
        }

        if (info.Exists)
        {
            info.Delete();
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"{path}: cannot listen: {e.Message}", e);
        }

        return new UnixSocketConsoleBridge(path, listener);
    }

    /// <summary>Connects the bridge to a machine's console port (again after a guest reboot) and serves it.</summary>
    public void Start(VirtioConsole console)
    {
        _console = console;
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = Task.Run(AcceptLoop);
            _ = Task.Run(SendLoop);
        }
    }

    /// <summary>Guest output (a <see cref="ConsoleOutputHandler"/>): copied and queued for the client.</summary>
    public void WriteFromGuest(ReadOnlySpan<byte> data) => _output.Writer.TryWrite(data.ToArray());

    private async Task AcceptLoop()
    {
        byte[] buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _client = client;
            _clientConnected.Release();
            try
            {
                while (true)
                {
                    int n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    // The guest takes input as fast as its driver posts buffers; wait rather than drop keystrokes.
                    while (_console is { } console && !console.TryEnqueueInput(buffer.AsSpan(0, n)))
                    {
                        await Task.Delay(10, _stop.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                _client = null;
                client.Dispose();
            }
        }
    }

    private async Task SendLoop()
    {
        try
        {
            await foreach (byte[] chunk in _output.Reader.ReadAllAsync(_stop.Token))
            {
                while (true)
                {
                    if (_client is not { } client)
                    {
                        await _clientConnected.WaitAsync(_stop.Token);
                        continue;
                    }

                    try
                    {
                        await client.SendAsync(chunk, SocketFlags.None, _stop.Token);
                        break;
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        // The client went away: keep the chunk for the next one.
                        await Task.Delay(10, _stop.Token);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _output.Writer.TryComplete();
        _client?.Dispose();
        _listener.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }
}
