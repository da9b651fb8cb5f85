using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench disk</c>: sequential and 4 KiB random read/write with O_DIRECT inside the Debian guest
/// (bench/guest/io-bench.c), on a raw and a qcow2 disk, alternately on Vessel and on QEMU with the same guest and
/// a fresh image each time; prints medians, ranges and the Vessel/QEMU ratio.
/// </summary>
public sealed partial class BenchDiskCommand : Command<BenchDiskCommand.Settings>
{
    private static readonly string[] Phases = ["seq-write", "seq-read", "rand-write", "rand-read"];

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--runs <N>")]
        [Description("Boots per format and hypervisor.")]
        [DefaultValue(3)]
        public int Runs { get; init; } = 3;

        [CommandOption("--size <MIB>")]
        [Description("MiB of the disk the sequential phases cover (and the random ones address).")]
        [DefaultValue(64)]
        public int SizeMiB { get; init; } = 64;

        [CommandOption("--seconds <S>")]
        [Description("Duration of each random phase.")]
        [DefaultValue(5)]
        public int Seconds { get; init; } = 5;

        [CommandOption("--formats <LIST>")]
        [Description("Image formats to measure, comma-separated.")]
        [DefaultValue("raw,qcow2")]
        public string Formats { get; init; } = "raw,qcow2";

        [CommandOption("--qemu <BINARY>")]
        [Description("QEMU to compare with.")]
        [DefaultValue(QemuGuestRunner.DefaultBinary)]
        public string Qemu { get; init; } = QemuGuestRunner.DefaultBinary;

        [CommandOption("--no-qemu")]
        [Description("Measure Vessel only.")]
        public bool NoQemu { get; init; }

        [CommandOption("--json <FILE>")]
        [Description("Also write every measurement and the summary as JSON.")]
        public string? Json { get; init; }

        public IEnumerable<string> FormatList => Formats.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        public override ValidationResult Validate()
        {
            if (Runs is < 1 or > 100)
            {
                return ValidationResult.Error("--runs must be between 1 and 100.");
            }

            if (SizeMiB is < 1 or > 4096 || Seconds is < 1 or > 600)
            {
                return ValidationResult.Error("--size must be 1..4096 MiB and --seconds 1..600.");
            }

            foreach (string f in FormatList)
            {
                if (f is not ("raw" or "qcow2"))
                {
                    return ValidationResult.Error($"--formats: '{f}' is not one of raw, qcow2.");
                }
            }

            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string? qemu = settings.NoQemu ? null : QemuGuestRunner.Find(settings.Qemu);
        if (!settings.NoQemu && qemu is null)
        {
            Console.Error.WriteLine($"vessel bench disk: {settings.Qemu} not found (apt-get install qemu-system-misc), or pass --no-qemu.");
            return 2;
        }

        GuestKitPathsOrError(cancellationToken, out var kit, out string? error);
        if (kit is null)
        {
            Console.Error.WriteLine($"vessel bench disk: {error}");
            return 2;
        }

        string dir = Directory.CreateTempSubdirectory("vessel-bench-disk-").FullName;
        try
        {
            string initrd = Path.Combine(dir, "initramfs.cpio.gz");
            BenchmarkInitramfs.Build(kit.Initramfs, initrd, "io-bench");
            var samples = new List<Sample>();
            string[] engines = qemu is null ? ["vessel"] : ["vessel", "qemu"];
            for (int run = 1; run <= settings.Runs; run++)
            {
                foreach (string format in settings.FormatList)
                {
                    foreach (string engine in run % 2 == 1 ? engines : engines.Reverse())
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        string image = Path.Combine(dir, $"disk.{format}");
                        CreateImage(image, format, (ulong)settings.SizeMiB << 21);
                        var workload = new GuestWorkload
                        {
                            Firmware = kit.Firmware,
                            Kernel = kit.Kernel,
                            Initrd = initrd,
                            CommandLine = $"console=ttyS0 quiet vessel.init='io-bench /dev/vda {settings.SizeMiB} {settings.Seconds}' vessel.poweroff=1",
                            Disks = [(image, format)],
                        };
                        var result = engine == "vessel"
                            ? VesselGuestRunner.Run(workload, cancellationToken)
                            : QemuGuestRunner.Run(qemu!, workload, cancellationToken);
                        var found = ResultLine().Matches(result.Console)
                            .Select(m => new Sample(format, m.Groups[1].Value, engine, run, double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value))
                            .ToList();
                        Console.Error.WriteLine($"run {run}/{settings.Runs} {format,-5} {engine,-6} {result.Wall.TotalSeconds,6:F1} s  " +
                            string.Join("  ", found.Select(s => $"{s.Phase} {s.Value:F0} {s.Unit}")));
                        if (!result.Completed || found.Count != Phases.Length)
                        {
                            Console.Error.WriteLine($"vessel bench disk: {engine} run failed ({result.Error ?? "incomplete output"}); console tail:\n{Tail(result.Console)}");
                            return 1;
                        }

                        samples.AddRange(found);
                        File.Delete(image);
                    }
                }
            }

            Report(settings, samples, qemu is not null);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void GuestKitPathsOrError(CancellationToken cancellationToken, out Vessel.Images.GuestKitPaths? kit, out string? error)
    {
        try
        {
            kit = GuestKitLauncher.Ensure(cancellationToken);
            error = null;
        }
        catch (Exception e) when (e is GuestKitUnavailableException or IOException or HttpRequestException)
        {
            kit = null;
            error = e.Message;
        }
    }

    private static void CreateImage(string path, string format, ulong size)
    {
        if (format == "qcow2")
        {
            Qcow2Image.Create(path, size);
        }
        else
        {
            RawImage.Create(path, size);
        }
    }

    private static void Report(Settings settings, List<Sample> samples, bool withQemu)
    {
        var table = new Table().AddColumns("format", "test", "Vessel (min–max)", "QEMU (min–max)", "ratio");
        var summary = new List<object>();
        foreach (string format in settings.FormatList)
        {
            foreach (string phase in Phases)
            {
                var vessel = BenchmarkStatistics.Of([.. samples.Where(s => s.Format == format && s.Phase == phase && s.Engine == "vessel").Select(s => s.Value)]);
                var qemu = BenchmarkStatistics.Of([.. samples.Where(s => s.Format == format && s.Phase == phase && s.Engine == "qemu").Select(s => s.Value)]);
                string unit = samples.First(s => s.Phase == phase).Unit;
                double? ratio = vessel is not null && qemu is { Median: > 0 } ? vessel.Median / qemu.Median : null;
                table.AddRow(format, $"{phase} ({unit})", Describe(vessel), withQemu ? Describe(qemu) : "-", ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) : "-");
                summary.Add(new { format, phase, unit, vessel, qemu, ratio });
            }
        }

        AnsiConsole.Write(table);
        Console.WriteLine($"{settings.Runs} runs each, {settings.SizeMiB} MiB region, {settings.Seconds} s random phases, O_DIRECT in the guest; " +
            $"medians; ratio = Vessel ÷ QEMU, > 1 means Vessel is faster. Host: {Environment.ProcessorCount} cores.");
        if (settings.Json is { } json)
        {
            File.WriteAllText(json, JsonSerializer.Serialize(new { samples, summary }, new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    private static string Describe(BenchmarkStatistics? s) =>
        s is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{s.Median:F0} ({s.Min:F0}–{s.Max:F0})");

    private static string Tail(string s) => s.Length <= 2000 ? s : s[^2000..];

    [GeneratedRegex(@"RESULT (\S+) ([0-9.]+) (\S+)")]
    private static partial Regex ResultLine();

    private sealed record Sample(string Format, string Phase, string Engine, int Run, double Value, string Unit);
}
