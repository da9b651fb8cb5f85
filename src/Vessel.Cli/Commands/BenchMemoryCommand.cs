using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;
using Vessel.Images;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench memory</c>: host resident memory (VmRSS) of idle 512 MiB VMs after boot — one VM, then
/// <c>--count</c> at once (the per-VM overhead) — each a <c>vessel run</c> or <c>qemu-system-riscv64</c> process,
/// alternating which engine goes first every run.
/// </summary>
public sealed class BenchMemoryCommand : Command<BenchMemoryCommand.Settings>
{
    private const string ReadyMarker = "Vessel guest ready";

    public sealed class Settings : SideBySideSettings
    {
        [CommandOption("--count <N>")]
        [Description("VMs in the many-VMs case.")]
        [DefaultValue(10)]
        public int Count { get; init; } = 10;

        [CommandOption("--memory <MIB>")]
        [Description("Guest RAM of each VM, MiB.")]
        [DefaultValue(512)]
        public int MemoryMiB { get; init; } = 512;

        [CommandOption("--settle <S>")]
        [Description("Seconds to let the VMs idle after the last one answers, before reading their RSS.")]
        [DefaultValue(5)]
        public int SettleSeconds { get; init; } = 5;

        protected override ValidationResult ValidateSuite() =>
            Count is < 2 or > 100 ? ValidationResult.Error("--count must be 2..100.")
            : MemoryMiB is < 64 or > 65536 ? ValidationResult.Error("--memory must be 64..65536 MiB.")
            : SettleSeconds is < 0 or > 600 ? ValidationResult.Error("--settle must be 0..600 s.")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!BenchmarkSetup.TryPrepare("memory", settings.NoQemu, settings.Qemu, cancellationToken, out string? qemu, out var kit))
        {
            return 2;
        }

        // Guest RAM is only touched as the guest uses it, but refuse up front when the VMs could not all fit.
        long need = (long)settings.Count * settings.MemoryMiB << 20;
        if (ProcessMemory.HostAvailableBytes() - need < DensityLimits.MinimumFreeBytes)
        {
            Console.Error.WriteLine($"vessel bench memory: {settings.Count} VMs of {settings.MemoryMiB} MiB could use more memory than this host has free (keeping {DensityLimits.MinimumFreeBytes >> 30} GiB); lower --count or --memory.");
            return 2;
        }

        string[] engines = qemu is null ? ["vessel"] : ["vessel", "qemu"];
        var samples = new List<BenchmarkSample>();
        for (int run = 1; run <= settings.Runs; run++)
        {
            foreach (string engine in run % 2 == 1 ? engines : engines.Reverse())
            {
                foreach (int count in new[] { 1, settings.Count })
                {
                    long? rss = MeasureIdle(engine, qemu, kit, settings, count, cancellationToken);
                    if (rss is null)
                    {
                        return 1;
                    }

                    double mib = rss.Value / 1048576.0;
                    Console.Error.WriteLine($"run {run}/{settings.Runs} {engine,-6} {count,3} VM(s): {mib:F0} MiB resident, {mib / count:F0} MiB per VM");
                    string group = count == 1 ? "1 VM" : $"{count} VMs";
                    samples.Add(new BenchmarkSample(group, engine, run, new BenchmarkMeasurement("host RSS", mib, "MiB", HigherIsBetter: false)));
                    if (count > 1)
                    {
                        samples.Add(new BenchmarkSample(group, engine, run, new BenchmarkMeasurement("RSS per VM", mib / count, "MiB", HigherIsBetter: false)));
                    }
                }
            }
        }

        SideBySideBenchmark.Report(
            samples,
            $"{settings.Runs} runs; idle {settings.MemoryMiB} MiB VMs (guest kit, 1 hart, no NIC) {settings.SettleSeconds} s after every shell answered; sum of VmRSS of their processes (vessel run / qemu-system-riscv64).",
            settings.Json);
        return 0;
    }

    /// <summary>Boots <paramref name="count"/> VMs one by one until each shell answers, then sums their RSS; null on failure.</summary>
    private static long? MeasureIdle(string engine, string? qemu, GuestKitPaths kit, Settings settings, int count, CancellationToken cancellationToken)
    {
        var workload = new GuestWorkload
        {
            Firmware = kit.Firmware,
            Kernel = kit.Kernel,
            Initrd = kit.Initramfs,
            MemorySize = (ulong)settings.MemoryMiB << 20,
            CommandLine = "console=ttyS0 quiet",
            Marker = ReadyMarker,
        };
        var vms = new List<GuestProcess>();
        try
        {
            // One at a time: ten interpreters booting at once on a small host starve each other (soft lockups in
            // the guests); booted VMs sit idle in WFI while the next boots.
            for (int i = 0; i < count; i++)
            {
                var vm = GuestProcess.Start(engine, qemu, workload);
                vms.Add(vm);
                if (!vm.WaitFor(ReadyMarker, TimeSpan.FromMinutes(10), cancellationToken) || !vm.Answers(TimeSpan.FromMinutes(2), cancellationToken))
                {
                    string text = vm.Console;
                    Console.Error.WriteLine($"vessel bench memory: a {engine} VM did not boot to a shell that answers; console tail:\n{(text.Length <= 2000 ? text : text[^2000..])}");
                    return null;
                }
            }

            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(settings.SettleSeconds));
            cancellationToken.ThrowIfCancellationRequested();
            return vms.Sum(vm => vm.ResidentBytes());
        }
        finally
        {
            foreach (var vm in vms)
            {
                vm.Dispose();
            }
        }
    }
}
