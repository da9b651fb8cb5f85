using System.Net.Sockets;
using System.Text;
using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

/// <summary>The monitor client against a fake HMP server on a Unix socket.</summary>
public sealed class QemuMonitorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vessel-monitor-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task CommandIsTimedUntilThePromptReturns()
    {
        string path = Path.Combine(_directory, "m.sock");
        using var listener = Listen(path);
        var server = Task.Run(() =>
        {
            using var peer = listener.Accept();
            peer.Send("QEMU monitor\r\n(qemu) "u8.ToArray());
            string line = ReadLine(peer);
            Thread.Sleep(60); // "saving"
            peer.Send(Encoding.ASCII.GetBytes(line + "\u001b[K\r\n"));
            peer.Send("(qemu) "u8.ToArray());
            return line;
        });

        using var monitor = QemuMonitor.Connect(path, TimeSpan.FromSeconds(10), CancellationToken.None);
        var (elapsed, reply) = monitor.Execute("savevm bench", TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal("savevm bench", await server);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(50), $"{elapsed.TotalMilliseconds} ms");
        Assert.Null(QemuMonitorReply.Error(reply));
    }

    [Fact]
    public async Task MonitorThatNeverPromptsTimesOut()
    {
        string path = Path.Combine(_directory, "m.sock");
        using var listener = Listen(path);
        var server = Task.Run(() =>
        {
            using var peer = listener.Accept();
            peer.Send("QEMU monitor\r\n(qemu) "u8.ToArray());
            _ = ReadLine(peer);
            Thread.Sleep(1500);
        });

        using var monitor = QemuMonitor.Connect(path, TimeSpan.FromSeconds(10), CancellationToken.None);
        var e = Assert.Throws<IOException>(() => monitor.Execute("loadvm bench", TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.Contains("prompt", e.Message, StringComparison.Ordinal);
        await server;
    }

    [Fact]
    public async Task MonitorThatHangsUpIsReported()
    {
        string path = Path.Combine(_directory, "m.sock");
        using var listener = Listen(path);
        var server = Task.Run(() =>
        {
            using var peer = listener.Accept();
            peer.Send("QEMU monitor\r\n(qemu) "u8.ToArray());
            _ = ReadLine(peer);
        });

        using var monitor = QemuMonitor.Connect(path, TimeSpan.FromSeconds(10), CancellationToken.None);
        var e = Assert.Throws<IOException>(() => monitor.Execute("savevm bench", TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Contains("closed", e.Message, StringComparison.Ordinal);
        await server;
    }

    [Fact]
    public void NoMonitorSocketIsReportedAfterTheTimeout() =>
        Assert.Throws<SocketException>(() => QemuMonitor.Connect(Path.Combine(_directory, "absent.sock"), TimeSpan.FromMilliseconds(200), CancellationToken.None));

    private static Socket Listen(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        return listener;
    }

    private static string ReadLine(Socket peer)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        while (peer.Receive(one) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }

        return line.ToString();
    }
}
