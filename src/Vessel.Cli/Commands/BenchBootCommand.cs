using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench boot</c>: boots the Debian guest kit to its "guest ready" banner (init has finished, the shell
/// starts next) and on to power-off, with 1 and 2 harts, alternately on Vessel and on QEMU.
/// </summary>
public sealed class BenchBootCommand : Command<BenchBootCommand.Settings>
{
    private const string ReadyMarker = "Vessel guest ready";

    public sealed class Settings : SideBySideSettings
    {
        [CommandOption("--cpus <LIST>")]
        [Description("Hart counts to boot with, comma-separated.")]
        [DefaultValue("1,2")]
        public string Cpus { get; init; } = "1,2";

        public IReadOnlyList<int> CpuList =>
            [.. Cpus.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => int.TryParse(c, out int n) ? n : 0)];

        protected override ValidationResult ValidateSuite() =>
            CpuList.Count == 0 || CpuList.Any(c => c is < 1 or > 8)
                ? ValidationResult.Error("--cpus must be a list of hart counts between 1 and 8, e.g. 1,2.")
                : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!BenchmarkSetup.TryPrepare("boot", settings.NoQemu, settings.Qemu, cancellationToken, out string? qemu, out var kit))
        {
            return 2;
        }

        var cases = settings.CpuList.Select(cpus => new BenchmarkCase(
            cpus == 1 ? "1 hart" : $"{cpus} harts",
            () => new GuestWorkload
            {
                Engine = settings.Engine,
                Firmware = kit.Firmware,
                Kernel = kit.Kernel,
                Initrd = kit.Initramfs,
                Cpus = cpus,
                CommandLine = "console=ttyS0 vessel.init='true' vessel.poweroff=1",
                Marker = ReadyMarker,
            },
            result => result.MarkerSeen is { } ready
                ? [
                    new BenchmarkMeasurement("to guest ready", ready.TotalSeconds, "s", HigherIsBetter: false),
                    new BenchmarkMeasurement("to power-off", result.Wall.TotalSeconds, "s", HigherIsBetter: false),
                ]
                : null)).ToList();
        var samples = SideBySideBenchmark.Run(cases, settings.Runs, qemu, Console.Error, cancellationToken);
        if (samples is null)
        {
            return 1;
        }

        SideBySideBenchmark.Report(
            samples,
            $"{settings.Runs} boots each of the guest kit (OpenSBI + Linux + busybox initramfs, 512 MiB), launch to \"{ReadyMarker}\" and to power-off, wall clock.",
            settings.Json);
        return 0;
    }
}
