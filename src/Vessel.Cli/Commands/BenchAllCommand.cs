using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel bench [SUITE...]</c>: runs the named suites (all of them when none is named) one after another with
/// their default options and the shared --runs/--qemu/--no-qemu; --json gathers every suite's report into one file.
/// </summary>
public sealed class BenchAllCommand : Command<BenchAllCommand.Settings>
{
    public sealed class Settings : SideBySideSettings
    {
        [CommandArgument(0, "[SUITE]")]
        [Description("Suites to run: boot, cpu, disk, net, memory, snapshot, density (default: all).")]
        public string[] Suites { get; init; } = [];

        public IReadOnlyList<string> SuiteList => Suites.Length == 0 ? BenchCommandLine.Suites : Suites;

        protected override ValidationResult ValidateSuite()
        {
            string? unknown = Suites.FirstOrDefault(s => !BenchCommandLine.Suites.Contains(s));
            return unknown is null
                ? ValidationResult.Success()
                : ValidationResult.Error($"unknown suite '{unknown}'; the suites are {string.Join(", ", BenchCommandLine.Suites)}.");
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string? jsonDirectory = settings.Json is null ? null : Directory.CreateTempSubdirectory("vessel-bench-json-").FullName;
        var failed = new List<string>();
        try
        {
            foreach (string suite in settings.SuiteList)
            {
                cancellationToken.ThrowIfCancellationRequested();
                AnsiConsole.Write(new Rule($"vessel bench {suite}"));
                string? json = jsonDirectory is null ? null : Path.Combine(jsonDirectory, suite + ".json");
                int status = RunSuite(suite, settings, json, context, cancellationToken);
                if (status != 0)
                {
                    failed.Add($"{suite} (status {status})");
                }
            }

            if (settings.Json is not null)
            {
                var all = new JsonObject();
                foreach (string suite in settings.SuiteList)
                {
                    string file = Path.Combine(jsonDirectory!, suite + ".json");
                    all[suite] = File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file)) : null;
                }

                File.WriteAllText(settings.Json, all.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
        }
        finally
        {
            if (jsonDirectory is not null)
            {
                Directory.Delete(jsonDirectory, recursive: true);
            }
        }

        if (failed.Count > 0)
        {
            Console.Error.WriteLine($"vessel bench: failed: {string.Join(", ", failed)}");
            return 1;
        }

        return 0;
    }

    private static int RunSuite(string suite, Settings common, string? json, CommandContext context, CancellationToken cancellationToken) => suite switch
    {
        "boot" => new BenchBootCommand().Execute(context, new BenchBootCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, Json = json }, cancellationToken),
        "cpu" => new BenchCpuCommand().Execute(context, new BenchCpuCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, Json = json }, cancellationToken),
        "disk" => new BenchDiskCommand().Execute(context, new BenchDiskCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, Json = json }, cancellationToken),
        "net" => new BenchNetCommand().Execute(context, new BenchNetCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, Json = json }, cancellationToken),
        "memory" => new BenchMemoryCommand().Execute(context, new BenchMemoryCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, Json = json }, cancellationToken),
        "snapshot" => new BenchSnapshotCommand().Execute(context, new BenchSnapshotCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json }, cancellationToken),
        "density" => new BenchDensityCommand().Execute(context, new BenchDensityCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, Json = json }, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "not a suite"),
    };
}
