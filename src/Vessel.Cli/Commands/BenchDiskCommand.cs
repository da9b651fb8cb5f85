using System.ComponentModel;
using System.Globalization;
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

    public sealed class Settings : SideBySideSettings
    {
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

        public IEnumerable<string> FormatList => Formats.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        protected override ValidationResult ValidateSuite()
        {
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
        if (!BenchmarkSetup.TryPrepare("disk", settings.NoQemu, settings.Qemu, cancellationToken, out string? qemu, out var kit))
        {
            return 2;
        }

        string dir = Directory.CreateTempSubdirectory("vessel-bench-disk-").FullName;
        try
        {
            string initrd = Path.Combine(dir, "initramfs.cpio.gz");
            BenchmarkInitramfs.Build(kit.Initramfs, initrd, "io-bench");
            var cases = settings.FormatList.Select(format => new BenchmarkCase(
                format,
                () =>
                {
                    // A fresh image for every run, so each run allocates the same way.
                    string image = Path.Combine(dir, $"disk.{format}");
                    File.Delete(image);
                    CreateImage(image, format, (ulong)settings.SizeMiB << 21);
                    return new GuestWorkload
                    {
                        Engine = settings.Engine,
                        Firmware = kit.Firmware,
                        Kernel = kit.Kernel,
                        Initrd = initrd,
                        CommandLine = $"console=ttyS0 quiet vessel.init='io-bench /dev/vda {settings.SizeMiB} {settings.Seconds}' vessel.poweroff=1",
                        Disks = [(image, format)],
                    };
                },
                result =>
                {
                    var found = ResultLine().Matches(result.Console)
                        .Select(m => new BenchmarkMeasurement(m.Groups[1].Value, double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value, HigherIsBetter: true))
                        .ToList();
                    return found.Count == Phases.Length ? found : null;
                })).ToList();
            var samples = SideBySideBenchmark.Run(cases, settings.Runs, qemu, Console.Error, cancellationToken);
            if (samples is null)
            {
                return 1;
            }

            SideBySideBenchmark.Report(
                samples,
                $"{settings.Runs} runs each, {settings.SizeMiB} MiB region, {settings.Seconds} s random phases, O_DIRECT in the guest, fresh image per run.",
                settings.Json);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
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

    [GeneratedRegex(@"RESULT (\S+) ([0-9.]+) (\S+)")]
    private static partial Regex ResultLine();
}
