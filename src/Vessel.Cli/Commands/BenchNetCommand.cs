using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench net</c>: TCP throughput from the guest to a listener on the host's loopback through user-mode
/// NAT (bench/guest/net-bench.c connects to 10.0.2.2 and sends in 64 KiB writes), alternately on Vessel and on QEMU's
/// <c>-netdev user</c>, measured on the host from accept to end of stream; and VM to VM over a private LAN
/// (<see cref="VmToVmNetworkCase"/>).
/// </summary>
public sealed class BenchNetCommand : Command<BenchNetCommand.Settings>
{
    public sealed class Settings : SideBySideSettings
    {
        [CommandOption("--size <MIB>")]
        [Description("MiB the guest sends.")]
        [DefaultValue(32)]
        public int SizeMiB { get; init; } = 32;

        [CommandOption("--links <LIST>")]
        [Description("Which links to measure, comma-separated: nat (guest to host), vm (VM to VM).")]
        [DefaultValue("nat,vm")]
        public string Links { get; init; } = "nat,vm";

        public IReadOnlyList<string> LinkList => [.. Links.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

        protected override ValidationResult ValidateSuite() =>
            SizeMiB is < 1 or > 4096
                ? ValidationResult.Error("--size must be 1..4096 MiB.")
                : LinkList.Count == 0 || LinkList.Any(l => l is not ("nat" or "vm"))
                    ? ValidationResult.Error("--links must list nat and/or vm, e.g. nat,vm.")
                    : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!BenchmarkSetup.TryPrepare("net", settings.NoQemu, settings.Qemu, cancellationToken, out string? qemu, out var kit))
        {
            return 2;
        }

        string dir = Directory.CreateTempSubdirectory("vessel-bench-net-").FullName;
        string initrd = Path.Combine(dir, "initramfs.cpio.gz");
        BenchmarkInitramfs.Build(kit.Initramfs, initrd, "net-bench");
        try
        {
            return Measure(settings, kit, initrd, qemu, cancellationToken);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int Measure(Settings settings, Vessel.Images.GuestKitPaths kit, string initrd, string? qemu, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        long bytes = (long)settings.SizeMiB << 20;
        Task<(long Bytes, TimeSpan Elapsed)>? receiving = null;
        var benchmarkCase = new BenchmarkCase(
            "user NAT",
            () =>
            {
                receiving = ReceiveOneAsync(listener, cancellationToken);
                return new GuestWorkload
                {
                    Engine = settings.Engine,
                    Firmware = kit.Firmware,
                    Kernel = kit.Kernel,
                    Initrd = initrd,
                    UserNetwork = true,
                    CommandLine = $"console=ttyS0 quiet vessel.dhcp=1 vessel.init='net-bench 10.0.2.2 {port} {settings.SizeMiB}' vessel.poweroff=1",
                };
            },
            _ =>
            {
                if (receiving is null || !receiving.Wait(TimeSpan.FromSeconds(30)))
                {
                    return null;
                }

                var (received, elapsed) = receiving.Result;
                return received == bytes
                    ? [new BenchmarkMeasurement("guest→host TCP", received / 1e6 / elapsed.TotalSeconds, "MB/s", HigherIsBetter: true)]
                    : null;
            });
        var cases = new List<BenchmarkCase>();
        if (settings.LinkList.Contains("nat"))
        {
            cases.Add(benchmarkCase);
        }

        if (settings.LinkList.Contains("vm"))
        {
            cases.Add(VmToVmNetworkCase.Create(kit, initrd, settings.SizeMiB, settings.Engine));
        }

        var samples = SideBySideBenchmark.Run(cases, settings.Runs, qemu, Console.Error, cancellationToken);
        if (samples is null)
        {
            return 1;
        }

        SideBySideBenchmark.Report(
            samples,
            $"{settings.Runs} boots each; the guest sends {settings.SizeMiB} MiB (net-bench, 64 KiB writes) to 10.0.2.2 (the host's 127.0.0.1) through user-mode NAT, " +
            "and VM to VM (static 192.168.100.0/24; Vessel switch:NAME, QEMU -netdev dgram UDP on loopback), rate taken by the receiver.",
            settings.Json);
        return 0;
    }

    private static async Task<(long Bytes, TimeSpan Elapsed)> ReceiveOneAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        using var client = await listener.AcceptTcpClientAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        using var stream = client.GetStream();
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += n;
        }

        return (total, clock.Elapsed);
    }
}
