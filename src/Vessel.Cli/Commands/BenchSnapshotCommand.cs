using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench snapshot</c>: a VM with 512 MiB RAM and a qcow2 disk boots to its shell; then the time to take
/// a live snapshot, to restore it, and from the restore to the shell answering a command — on Vessel with the
/// service's snapshot machinery, on QEMU with savevm/loadvm — alternating which engine goes first every run.
/// </summary>
public sealed class BenchSnapshotCommand : Command<BenchSnapshotCommand.Settings>
{
    public sealed class Settings : SideBySideSettings
    {
        [CommandOption("--memory <MIB>")]
        [Description("Guest RAM, MiB.")]
        [DefaultValue(512)]
        public int MemoryMiB { get; init; } = 512;

        [CommandOption("--disk-size <MIB>")]
        [Description("Virtual size of the fresh qcow2 disk each run gets, MiB.")]
        [DefaultValue(1024)]
        public int DiskMiB { get; init; } = 1024;

        protected override ValidationResult ValidateSuite() =>
            MemoryMiB is < 64 or > 65536 ? ValidationResult.Error("--memory must be 64..65536 MiB.")
            : DiskMiB is < 1 or > 1048576 ? ValidationResult.Error("--disk-size must be 1..1048576 MiB.")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!BenchmarkSetup.TryPrepare("snapshot", settings.NoQemu, settings.Qemu, cancellationToken, out string? qemu, out var kit))
        {
            return 2;
        }

        string[] engines = qemu is null ? ["vessel"] : ["vessel", "qemu"];
        var samples = new List<BenchmarkSample>();
        for (int run = 1; run <= settings.Runs; run++)
        {
            foreach (string engine in run % 2 == 1 ? engines : engines.Reverse())
            {
                cancellationToken.ThrowIfCancellationRequested();
                string work = Directory.CreateTempSubdirectory("vessel-bench-snapshot-").FullName;
                try
                {
                    // A fresh disk per run, so no run restores or grows another's snapshot.
                    string disk = Path.Combine(work, "disk.qcow2");
                    Qcow2Image.Create(disk, (ulong)settings.DiskMiB << 20);
                    var setup = new SnapshotRoundSetup(kit, (ulong)settings.MemoryMiB << 20, disk, work) { Engine = settings.Engine };
                    var timings = engine == "vessel" ? VesselSnapshotRound.Run(setup, cancellationToken) : QemuSnapshotRound.Run(qemu!, setup, cancellationToken);
                    var measured = timings.ToMeasurements();
                    Console.Error.WriteLine($"run {run}/{settings.Runs} {engine,-6} " + string.Join("  ", measured.Select(m => $"{m.Metric} {m.Value:F1} {m.Unit}"))
                        + (timings.RestoreToConsole is null ? $"  (no console answer within {setup.StepTimeout.TotalSeconds:F0} s of the restore)" : string.Empty));
                    samples.AddRange(measured.Select(m => new BenchmarkSample(SnapshotTimings.Group, engine, run, m)));
                }
                catch (Exception e) when (e is SnapshotBenchmarkException or DiskImageException or IOException or InvalidOperationException or TimeoutException)
                {
                    Console.Error.WriteLine($"vessel bench snapshot: run {run} on {engine} failed: {e.Message}");
                    return 1;
                }
                finally
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }

        SideBySideBenchmark.Report(
            samples,
            $"{settings.Runs} runs; guest kit booted to its shell ({settings.MemoryMiB} MiB, 1 hart, a fresh {settings.DiskMiB} MiB qcow2 disk). " +
            "Vessel: Pause+SaveState+qcow2 snapshot+Resume, and stop+disk revert+Restore+run, in-process (the service's worker steps, without its process start); " +
            "QEMU: savevm/loadvm until the monitor prompt. Console answer: from the restore's end until an echoed command's output appears.",
            settings.Json);
        return 0;
    }
}
