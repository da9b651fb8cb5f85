using System.Collections.Concurrent;
using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Machine.Conformance;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel riscv-test PATH…</c>: runs riscv-tests ELFs and prints one line each, then "N passed, N failed".</summary>
public sealed class RiscvTestCommand : Command<RiscvTestCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<PATH>")]
        [Description("ELF files, or folders whose ELF files are all run.")]
        public string[] Paths { get; init; } = [];

        [CommandOption("--limit <INSTRUCTIONS>")]
        [Description("Fail a test that has not reported after this many instructions.")]
        [DefaultValue(RiscvTestRunner.DefaultInstructionLimit)]
        public long Limit { get; init; } = RiscvTestRunner.DefaultInstructionLimit;

        [CommandOption("-j|--jobs <N>")]
        [Description("Tests run at once (default: one per host core).")]
        public int? Jobs { get; init; }

        public override ValidationResult Validate()
        {
            if (Limit <= 0)
            {
                return ValidationResult.Error("--limit must be positive.");
            }

            return Jobs is <= 0 ? ValidationResult.Error("--jobs must be positive.") : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var files = RiscvTestRunner.ExpandPaths(settings.Paths, out var missing);
        foreach (string path in missing)
        {
            Console.Error.WriteLine($"vessel riscv-test: {path}: no such file or directory");
        }

        if (files.Count == 0 && missing.Count > 0)
        {
            return 2;
        }

        var runner = new RiscvTestRunner { InstructionLimit = settings.Limit };
        var results = new RiscvTestResult?[files.Count];
        var printLock = new object();
        int nextToPrint = 0;
        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = settings.Jobs ?? Environment.ProcessorCount,
            CancellationToken = cancellationToken,
        };
        Parallel.ForEach(Partitioner.Create(0, files.Count, 1), options, range =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
            {
                results[i] = runner.Run(files[i]);
                lock (printLock)
                {
                    // Print in input order as soon as every earlier test is done.
                    while (nextToPrint < results.Length && results[nextToPrint] is { } r)
                    {
                        Print(r);
                        nextToPrint++;
                    }
                }
            }
        });

        int passed = results.Count(r => r!.Passed);
        int failed = results.Length - passed + missing.Count;
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    private static void Print(RiscvTestResult r)
    {
        string status = r.Passed ? "[green]PASS[/]" : "[red]FAIL[/]";
        string detail = r.Passed
            ? string.Empty
            : r.Error is { } error ? $"  {Markup.Escape(error)}" : $"  test {r.FailedTestNumber}";
        AnsiConsole.MarkupLine($"{status} {Markup.Escape(r.Name),-28} {r.Instructions,12:N0} instructions{detail}");
    }
}
