using System.ComponentModel;
using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;
using Vessel.Images;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench density</c>: starts idle 128 MiB VMs one after another, each a <c>vessel run</c> (or QEMU)
/// process, until a cap, the time limit or host memory (<see cref="DensityLimits"/>) says stop, or a VM no longer
/// answers its console; then checks every VM still answers and reports how many ran and the host memory each cost
/// (the drop in MemAvailable, and the processes' RSS). Every VM is killed at the end, whatever happened.
/// </summary>
public sealed class BenchDensityCommand : Command<BenchDensityCommand.Settings>
{
    private const string ReadyMarker = "Vessel guest ready";

    public sealed class Settings : SideBySideSettings
    {
        [CommandOption("--max-vms <N>")]
        [Description("Stop after this many VMs per engine.")]
        [DefaultValue(200)]
        public int MaxVms { get; init; } = 200;

        [CommandOption("--minutes <M>")]
        [Description("Time limit per engine for starting VMs.")]
        [DefaultValue(10.0)]
        public double Minutes { get; init; } = 10;

        [CommandOption("--memory <MIB>")]
        [Description("Guest RAM of each VM, MiB.")]
        [DefaultValue(128)]
        public int MemoryMiB { get; init; } = 128;

        [CommandOption("--reserve <MIB>")]
        [Description("Host memory that must stay available, MiB (at least 2048).")]
        [DefaultValue(2048)]
        public int ReserveMiB { get; init; } = 2048;

        protected override ValidationResult ValidateSuite() =>
            MaxVms is < 1 or > 10000 ? ValidationResult.Error("--max-vms must be 1..10000.")
            : Minutes is <= 0 or > 1440 ? ValidationResult.Error("--minutes must be more than 0 and at most 1440.")
            : MemoryMiB is < 64 or > 65536 ? ValidationResult.Error("--memory must be 64..65536 MiB.")
            : ReserveMiB < DensityLimits.MinimumFreeBytes >> 20 ? ValidationResult.Error($"--reserve must be at least {DensityLimits.MinimumFreeBytes >> 20} MiB.")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!BenchmarkSetup.TryPrepare("density", settings.NoQemu, settings.Qemu, cancellationToken, out string? qemu, out var kit))
        {
            return 2;
        }

        string[] engines = qemu is null ? ["vessel"] : ["vessel", "qemu"];
        var samples = new List<BenchmarkSample>();
        for (int run = 1; run <= settings.Runs; run++)
        {
            foreach (string engine in run % 2 == 1 ? engines : engines.Reverse())
            {
                var measured = Fill(engine, qemu, kit, settings, cancellationToken);
                if (measured is null)
                {
                    return 1;
                }

                var (count, hostMiBPerVm, rssMiBPerVm) = measured.Value;
                Console.Error.WriteLine($"run {run}/{settings.Runs} {engine,-6} {count} VMs: {hostMiBPerVm:F0} MiB of host memory and {rssMiBPerVm:F0} MiB RSS per VM");
                samples.Add(new BenchmarkSample("density", engine, run, new BenchmarkMeasurement("VMs running", count, "VMs", HigherIsBetter: true)));
                samples.Add(new BenchmarkSample("density", engine, run, new BenchmarkMeasurement("host memory per VM", hostMiBPerVm, "MiB", HigherIsBetter: false)));
                samples.Add(new BenchmarkSample("density", engine, run, new BenchmarkMeasurement("RSS per VM", rssMiBPerVm, "MiB", HigherIsBetter: false)));
            }
        }

        SideBySideBenchmark.Report(
            samples,
            $"Idle {settings.MemoryMiB} MiB VMs (guest kit, 1 hart, no NIC) started one at a time until --max-vms {settings.MaxVms}, {settings.Minutes:0.#} min, " +
            $"or host memory within {settings.ReserveMiB} MiB of running out; host memory = drop in MemAvailable.",
            settings.Json);
        return 0;
    }

    /// <summary>Starts VMs until a limit; returns (VMs answering, host MiB per VM, RSS MiB per VM), or null if none started.</summary>
    private static (int Count, double HostMiBPerVm, double RssMiBPerVm)? Fill(string engine, string? qemu, GuestKitPaths kit, Settings settings, CancellationToken cancellationToken)
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

        // One more VM may take its whole RAM plus the engine's own footprint (a .NET process, QEMU's TCG cache).
        var limits = new DensityLimits(settings.MaxVms, TimeSpan.FromMinutes(settings.Minutes), (long)settings.ReserveMiB << 20, ((long)settings.MemoryMiB + 256) << 20);
        long availableBefore = ProcessMemory.HostAvailableBytes();
        var vms = new List<GuestProcess>();
        var clock = Stopwatch.StartNew();
        string? reason;
        try
        {
            while ((reason = limits.StopReason(vms.Count, clock.Elapsed, ProcessMemory.HostAvailableBytes())) is null)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var vm = GuestProcess.Start(engine, qemu, workload);
                vms.Add(vm);
                if (!vm.WaitFor(ReadyMarker, TimeSpan.FromMinutes(5), cancellationToken) || !vm.Answers(TimeSpan.FromMinutes(1), cancellationToken))
                {
                    reason = $"VM {vms.Count} did not boot to an answering shell";
                    vm.Dispose();
                    vms.Remove(vm);
                    break;
                }

                Console.Error.WriteLine($"density {engine}: {vms.Count} VMs answering after {clock.Elapsed.TotalSeconds:F0} s, {ProcessMemory.HostAvailableBytes() >> 20} MiB host memory available");
            }

            // Every VM must still answer for it to count.
            int answering = vms.Count(vm => vm.Answers(TimeSpan.FromSeconds(30), cancellationToken));
            Console.Error.WriteLine($"density {engine}: stopped: {reason}; {answering} of {vms.Count} VMs answer their console");
            if (answering == 0)
            {
                return null;
            }

            double hostMiB = (availableBefore - ProcessMemory.HostAvailableBytes()) / 1048576.0;
            double rssMiB = vms.Sum(vm => vm.HasExited ? 0 : vm.ResidentBytes()) / 1048576.0;
            return (answering, hostMiB / vms.Count, rssMiB / vms.Count);
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
