using System.ComponentModel;
using System.Reflection;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;
using Vessel.Machine.Conformance;
using Vessel.Machine.Loading;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench cpu</c>: the integer, memory-copy, branchy and floating-point kernels of bench/guest/cpu-kernels.c
/// in the Debian guest, alternately on Vessel and on QEMU, and the same C compiled natively on the host, so each
/// engine shows as a percentage of native speed. Also the bare-metal cpu-bench.elf on Vessel's interpreter (MIPS).
/// </summary>
public sealed class BenchCpuCommand : Command<BenchCpuCommand.Settings>
{
    private const string BareMetalResource = "cpu-bench.elf";

    public sealed class Settings : SideBySideSettings
    {
        [CommandOption("--native-scale <N>")]
        [Description("Work multiplier for the native run (the guest runs scale 1; rates do not depend on it, but native needs more work to time well).")]
        [DefaultValue(40)]
        public int NativeScale { get; init; } = 40;

        [CommandOption("--no-native")]
        [Description("Skip the native baseline (no host C compiler needed).")]
        public bool NoNative { get; init; }

        protected override ValidationResult ValidateSuite() =>
            NativeScale is < 1 or > 100000 ? ValidationResult.Error("--native-scale must be 1..100000.") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!BenchmarkSetup.TryPrepare("cpu", settings.NoQemu, settings.Qemu, cancellationToken, out string? qemu, out var kit))
        {
            return 2;
        }

        string? problem = null;
        using var native = settings.NoNative ? null : NativeCpuKernels.TryBuild(out problem);
        if (!settings.NoNative && native is null)
        {
            Console.Error.WriteLine($"vessel bench cpu: {problem}; pass --no-native to measure without it.");
            return 2;
        }

        // Scale 1 natively gives the checksums the guest must reproduce: a different number is an emulation bug.
        var expected = native is null ? null : CpuKernelResults.Parse(native.Run(1))?.Select(r => r.Checksum).ToArray();
        string dir = Directory.CreateTempSubdirectory("vessel-bench-cpu-").FullName;
        try
        {
            string initrd = Path.Combine(dir, "initramfs.cpio.gz");
            BenchmarkInitramfs.Build(kit.Initramfs, initrd, "cpu-kernels");
            var guest = new BenchmarkCase(
                "guest kernels",
                () => new GuestWorkload
                {
                    Engine = settings.Engine,
                    Firmware = kit.Firmware,
                    Kernel = kit.Kernel,
                    Initrd = initrd,
                    CommandLine = "console=ttyS0 quiet vessel.init='cpu-kernels 1' vessel.poweroff=1",
                },
                result => Measure(result.Console, expected));
            var samples = SideBySideBenchmark.Run([guest], settings.Runs, qemu, Console.Error, cancellationToken);
            if (samples is null)
            {
                return 1;
            }

            for (int run = 1; native is not null && run <= settings.Runs; run++)
            {
                var results = CpuKernelResults.Parse(native.Run(settings.NativeScale))
                    ?? throw new InvalidOperationException("the native cpu-kernels printed no results");
                samples.AddRange(results.Select(r => new BenchmarkSample("guest kernels", "native", run, r.Rate)));
                Console.Error.WriteLine($"run {run}/{settings.Runs} native  " + string.Join("  ", results.Select(r => $"{r.Rate.Metric} {r.Rate.Value:F1} {r.Rate.Unit}")));
            }

            if (!RunBareMetal(settings.Runs, settings.Engine, samples, cancellationToken))
            {
                return 1;
            }

            SideBySideBenchmark.Report(
                samples,
                $"{settings.Runs} boots each running bench/guest/cpu-kernels (static riscv64, {NativeCpuKernels.Flags}); native = the same C built by the host's cc, scale {settings.NativeScale}; bare-metal = cpu-bench.elf on Vessel's hart without a kernel.",
                settings.Json);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static List<BenchmarkMeasurement>? Measure(string console, string[]? expectedChecksums)
    {
        var results = CpuKernelResults.Parse(console);
        if (results is null)
        {
            return null;
        }

        for (int i = 0; expectedChecksums is not null && i < results.Count; i++)
        {
            if (results[i].Checksum != expectedChecksums[i])
            {
                Console.Error.WriteLine($"vessel bench cpu: {results[i].Rate.Metric} checksum {results[i].Checksum} differs from native {expectedChecksums[i]}: the guest computed a wrong result.");
                return null;
            }
        }

        return [.. results.Select(r => r.Rate)];
    }

    /// <summary>The bare-metal cpu-bench.elf on the interpreter (no OS, no QEMU counterpart): instructions per second.</summary>
    private static bool RunBareMetal(int runs, Vessel.RiscV.CpuEngine engine, List<BenchmarkSample> samples, CancellationToken cancellationToken)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(BareMetalResource)
            ?? throw new InvalidOperationException($"The {BareMetalResource} resource is missing from this build.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var elf = ElfImage.Parse(bytes, BareMetalResource);
        var runner = new RiscvTestRunner { InstructionLimit = long.MaxValue, Engine = engine };
        for (int run = 1; run <= runs && !cancellationToken.IsCancellationRequested; run++)
        {
            var result = runner.Run(elf, BareMetalResource);
            if (!result.Passed)
            {
                Console.Error.WriteLine($"vessel bench cpu: the bare-metal program failed: {result.Error ?? $"exit code {result.FailedTestNumber}"}");
                return false;
            }

            double mips = result.Instructions / result.Elapsed.TotalSeconds / 1e6;
            samples.Add(new BenchmarkSample("bare-metal", "vessel", run, new BenchmarkMeasurement(CpuEngineOption.Name(engine), mips, "MIPS", HigherIsBetter: true)));
            Console.Error.WriteLine($"run {run}/{runs} bare-metal vessel {result.Instructions:N0} instructions in {result.Elapsed.TotalSeconds:F2} s: {mips:F1} MIPS");
        }

        return true;
    }
}
