using System.ComponentModel;
using System.Reflection;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Machine.Conformance;
using Vessel.Machine.Loading;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench cpu</c>: runs the bare-metal CPU benchmark (bench/guest/cpu-bench.c, embedded in this
/// program) on the interpreter or the JIT several times and reports instructions, wall time and MIPS, with the median.
/// </summary>
public sealed class BenchCpuCommand : Command<BenchCpuCommand.Settings>
{
    private const string ResourceName = "cpu-bench.elf";

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--runs <N>")]
        [Description("How many times to run the benchmark.")]
        [DefaultValue(5)]
        public int Runs { get; init; } = 5;

        [CommandOption(CpuEngineOption.Template)]
        [Description(CpuEngineOption.Description)]
        [DefaultValue(CpuEngineOption.Default)]
        public string CpuEngine { get; init; } = CpuEngineOption.Default;

        public override ValidationResult Validate()
        {
            if (!CpuEngineOption.TryParse(CpuEngine, out _))
            {
                return ValidationResult.Error(CpuEngineOption.Error(CpuEngine));
            }

            return Runs is < 1 or > 1000 ? ValidationResult.Error("--runs must be between 1 and 1000.") : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The {ResourceName} resource is missing from this build.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var elf = ElfImage.Parse(bytes, ResourceName);
        CpuEngineOption.TryParse(settings.CpuEngine, out var engine);
        var runner = new RiscvTestRunner { InstructionLimit = long.MaxValue, Engine = engine };

        var table = new Table().AddColumns("run", "instructions", "seconds", "MIPS");
        var mips = new List<double>();
        for (int i = 1; i <= settings.Runs && !cancellationToken.IsCancellationRequested; i++)
        {
            var result = runner.Run(elf, ResourceName);
            if (!result.Passed)
            {
                Console.Error.WriteLine($"vessel bench cpu: the benchmark program failed: {result.Error ?? $"exit code {result.FailedTestNumber}"}");
                return 1;
            }

            double rate = result.Instructions / result.Elapsed.TotalSeconds / 1e6;
            mips.Add(rate);
            table.AddRow(i.ToString(), result.Instructions.ToString("N0"), result.Elapsed.TotalSeconds.ToString("F3"), rate.ToString("F1"));
        }

        AnsiConsole.Write(table);
        mips.Sort();
        double median = mips.Count % 2 == 1 ? mips[mips.Count / 2] : (mips[(mips.Count / 2) - 1] + mips[mips.Count / 2]) / 2;
        Console.WriteLine($"median: {median:F1} MIPS over {mips.Count} runs ({CpuEngineOption.Name(engine)}, 1 hart, {Environment.ProcessorCount} host cores)");
        return 0;
    }
}
