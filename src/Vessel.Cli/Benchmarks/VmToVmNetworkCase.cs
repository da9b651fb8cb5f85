using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Vessel.Images;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// TCP throughput between two VMs on a private LAN (issue 5's VM-to-VM number): a receiver VM runs
/// <c>net-bench -l</c> and a sender VM, booted at the same time, streams to it. Addresses are static (set by
/// <c>vessel.init</c>, since a switch has no DHCP). Vessel links them with a <c>switch:NAME</c>; QEMU with
/// <c>-netdev socket</c> UDP on loopback. The receiver's own accept-to-end-of-stream rate is the measurement.
/// </summary>
public static partial class VmToVmNetworkCase
{
    private const int Port = 5001;

    /// <summary>How long the receiver waits in all (for the sender's boot and the transfer) before it gives up.</summary>
    private const int ReceiverTimeoutSeconds = 540;

    public static BenchmarkCase Create(GuestKitPaths kit, string initrd, int sizeMiB, Vessel.RiscV.CpuEngine engine)
    {
        GuestWorkload? sender = null;
        return new BenchmarkCase(
            "VM→VM",
            () =>
            {
                // A new LAN per run: a fresh switch name and fresh UDP ports, so no frame from an earlier run arrives.
                string lan = $"bench{Environment.ProcessId}x{Guid.NewGuid():N}"[..24];
                int receiverPort = FreeUdpPort(), senderPort = FreeUdpPort();
                var receiver = Workload(kit, initrd, engine, new LanLink(lan, receiverPort, senderPort, "52:54:00:be:0c:01"),
                    $"ip addr add 192.168.100.1/24 dev eth0; net-bench -l {Port} {sizeMiB} {ReceiverTimeoutSeconds}");
                sender = Workload(kit, initrd, engine, new LanLink(lan, senderPort, receiverPort, "52:54:00:be:0c:02"),
                    $"ip addr add 192.168.100.2/24 dev eth0; net-bench 192.168.100.1 {Port} {sizeMiB} {ReceiverTimeoutSeconds - 60}");
                return receiver;
            },
            result => Measure(result.Console, (long)sizeMiB << 20))
        {
            CreatePeer = () => sender ?? throw new InvalidOperationException("the receiver is made first"),
        };
    }

    /// <summary>The receiver's rate in MB/s when it got exactly <paramref name="expectedBytes"/>, else null.</summary>
    public static IReadOnlyList<BenchmarkMeasurement>? Measure(string console, long expectedBytes)
    {
        var m = ReceivedLine().Match(console);
        return m.Success && long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) == expectedBytes
            ? [new BenchmarkMeasurement("VM→VM TCP", double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), "MB/s", HigherIsBetter: true)]
            : null;
    }

    private static GuestWorkload Workload(GuestKitPaths kit, string initrd, Vessel.RiscV.CpuEngine engine, LanLink lan, string command) => new()
    {
        Engine = engine,
        Firmware = kit.Firmware,
        Kernel = kit.Kernel,
        Initrd = initrd,
        Lan = lan,
        CommandLine = $"console=ttyS0 quiet vessel.init='{command}' vessel.poweroff=1",
    };

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"NET-BENCH received (\d+) bytes in [0-9.]+ s: ([0-9.]+) MB/s")]
    private static partial Regex ReceivedLine();
}
