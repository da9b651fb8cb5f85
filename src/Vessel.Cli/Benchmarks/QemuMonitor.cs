using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// A connection to a QEMU human monitor on a Unix socket (<c>-monitor unix:PATH,server,nowait</c>): runs one
/// command at a time and times it from sending the line until the next prompt arrives, which is when QEMU has
/// finished it (savevm/loadvm run synchronously in the monitor with the VM stopped).
/// </summary>
public sealed class QemuMonitor : IDisposable
{
    /// <summary>The most a reply may grow to; a monitor that keeps talking past this is not answering our command.</summary>
    private const int MaxReplyChars = 1 << 20;

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[4096];

    private QemuMonitor(Socket socket) => _socket = socket;

    /// <summary>Connects (retrying while QEMU creates the socket) and waits for the banner's prompt.</summary>
    public static QemuMonitor Connect(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                var monitor = new QemuMonitor(socket);
                _ = monitor.ReadReply(timeout - clock.Elapsed, cancellationToken);
                return monitor;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                socket.Dispose();
                cancellationToken.WaitHandle.WaitOne(50);
                cancellationToken.ThrowIfCancellationRequested();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>Runs <paramref name="command"/>; returns how long it took and its raw reply (see <see cref="QemuMonitorReply"/>).</summary>
    public (TimeSpan Elapsed, string Reply) Execute(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        byte[] line = QemuMonitorReply.Encode(command);
        var clock = Stopwatch.StartNew();
        _socket.Send(line);
        string reply = ReadReply(timeout, cancellationToken);
        return (clock.Elapsed, reply);
    }

    public void Dispose() => _socket.Dispose();

    private string ReadReply(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = new StringBuilder();
        var clock = Stopwatch.StartNew();
        while (!QemuMonitorReply.IsComplete(reply.ToString()))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new IOException($"the QEMU monitor did not return to its prompt within {timeout.TotalSeconds:F0} s");
            }

            // Poll in short steps so cancellation is noticed while QEMU works on a long command.
            if (!_socket.Poll(TimeSpan.FromMilliseconds(Math.Min(left.TotalMilliseconds, 200)), SelectMode.SelectRead))
            {
                continue;
            }

            int n = _socket.Receive(_buffer);
            if (n == 0)
            {
                throw new IOException("the QEMU monitor closed its connection (QEMU exited?)");
            }

            reply.Append(Encoding.Latin1.GetString(_buffer, 0, n));
            if (reply.Length > MaxReplyChars)
            {
                throw new IOException($"the QEMU monitor sent more than {MaxReplyChars} characters without a prompt");
            }
        }

        return reply.ToString();
    }
}
