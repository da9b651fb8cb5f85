using System.Net.Sockets;
using Vessel.Devices;

namespace Vessel.Hosting;

/// <summary>
/// A worker's serial console: guest output goes to a bounded ring (so a late attach sees recent output), to a
/// size-capped log file (rotated once to <c>.1</c>) and to every attached client; client input goes to the UART.
/// Clients come and go while the VM runs; a slow or vanished client is dropped, never waited for.
/// </summary>
public sealed class ConsoleHub : IDisposable
{
    private const int RingBytes = 64 * 1024;
    private const long LogLimit = 8L << 20;

    private readonly byte[] _ring = new byte[RingBytes];
    private readonly Lock _lock = new();
    private readonly List<byte> _pending = [];
    private readonly List<Socket> _clients = [];
    private readonly string _logPath;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private FileStream _log;
    private int _ringStart;
    private int _ringCount;
    private volatile Uart16550? _uart;

    public ConsoleHub(string socketPath, string logPath)
    {
        _logPath = logPath;
        _log = new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        File.Delete(socketPath);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        OwnerOnlyFile.Restrict(socketPath);
        _listener.Listen(8);
        _ = Task.Run(AcceptLoop);
        _ = Task.Run(FlushLoop);
    }

    /// <summary>The UART input goes to (replaced when the guest reboots into a new machine).</summary>
    public Uart16550? Uart
    {
        get => _uart;
        set => _uart = value;
    }

    /// <summary>UART transmit callback.</summary>
    public void Write(byte b)
    {
        lock (_lock)
        {
            int end = (_ringStart + _ringCount) % RingBytes;
            _ring[end] = b;
            if (_ringCount < RingBytes)
            {
                _ringCount++;
            }
            else
            {
                _ringStart = (_ringStart + 1) % RingBytes;
            }

            _pending.Add(b);
        }
    }

    private async Task FlushLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(15, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            Flush();
        }
    }

    private void Flush()
    {
        byte[] data;
        Socket[] clients;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            data = [.. _pending];
            _pending.Clear();
            clients = [.. _clients];
        }

        try
        {
            if (_log.Length > LogLimit)
            {
                _log.Dispose();
                File.Move(_logPath, _logPath + ".1", overwrite: true);
                _log = new FileStream(_logPath, FileMode.Append, FileAccess.Write, FileShare.Read);
            }

            _log.Write(data);
            _log.Flush();
        }
        catch (IOException)
        {
            // A full disk must not stop the guest; the ring and live clients still get the output.
        }

        foreach (var client in clients)
        {
            try
            {
                client.Send(data);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Drop(client);
            }
        }
    }

    private async Task AcceptLoop()
    {
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

            client.SendTimeout = 2000; // a client that stops reading is dropped rather than stalling the others
            byte[] backlog;
            lock (_lock)
            {
                // Send what the ring held before the pending bytes; those reach the new client with the next flush.
                int count = _ringCount - _pending.Count;
                backlog = new byte[Math.Max(count, 0)];
                for (int i = 0; i < backlog.Length; i++)
                {
                    backlog[i] = _ring[(_ringStart + i) % RingBytes];
                }

                _clients.Add(client);
            }

            try
            {
                client.Send(backlog);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Drop(client);
                continue;
            }

            _ = Task.Run(() => ReceiveLoop(client));
        }
    }

    private async Task ReceiveLoop(Socket client)
    {
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                int n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    break;
                }

                await FeedAsync(buffer.AsMemory(0, n));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Drop(client);
        }
    }

    private async Task FeedAsync(ReadOnlyMemory<byte> data)
    {
        // Hold input until the guest's driver listens, then respect the UART's backlog limit (no dropped keys).
        int offset = 0;
        while (offset < data.Length && !_stop.IsCancellationRequested)
        {
            if (_uart is not { ReceiverReady: true } uart)
            {
                await Task.Delay(20, _stop.Token);
                continue;
            }

            int chunk = Math.Min(256, data.Length - offset);
            if (uart.TryEnqueueInput(data.Span.Slice(offset, chunk)))
            {
                offset += chunk;
            }
            else
            {
                await Task.Delay(5, _stop.Token);
            }
        }
    }

    private void Drop(Socket client)
    {
        lock (_lock)
        {
            _clients.Remove(client);
        }

        client.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        Flush();
        _listener.Dispose();
        lock (_lock)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }

        _log.Dispose();
    }
}
