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
        [Description("Suites to run: boot, cpu, disk, net, memory, snapshot, density (default: all; density runs once whatever --runs says).")]
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

                if (settings.Json is not null)
                {
                    // After every suite, so a long run that is stopped (Ctrl-C, a reboot) keeps the suites it finished.
                    WriteReport(settings.Json, settings.SuiteList, jsonDirectory!);
                }
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

    /// <summary>One JSON object with a member per suite: its report, or null while it has not run (yet).</summary>
    public static void WriteReport(string path, IReadOnlyList<string> suites, string suiteDirectory)
    {
        var all = new JsonObject();
        foreach (string suite in suites)
        {
            string file = Path.Combine(suiteDirectory, suite + ".json");
            all[suite] = File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file)) : null;
        }

        string temp = path + ".tmp";
        File.WriteAllText(temp, all.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, path, overwrite: true);
    }

    private static int RunSuite(string suite, Settings common, string? json, CommandContext context, CancellationToken cancellationToken) => SuiteSettings(suite, common, json) switch
    {
        BenchBootCommand.Settings boot => new BenchBootCommand().Execute(context, boot, cancellationToken),
        BenchCpuCommand.Settings cpu => new BenchCpuCommand().Execute(context, cpu, cancellationToken),
        BenchDiskCommand.Settings disk => new BenchDiskCommand().Execute(context, disk, cancellationToken),
        BenchNetCommand.Settings net => new BenchNetCommand().Execute(context, net, cancellationToken),
        BenchMemoryCommand.Settings memory => new BenchMemoryCommand().Execute(context, memory, cancellationToken),
        BenchSnapshotCommand.Settings snapshot => new BenchSnapshotCommand().Execute(context, snapshot, cancellationToken),
        BenchDensityCommand.Settings density => new BenchDensityCommand().Execute(context, density, cancellationToken),
        var other => throw new InvalidOperationException($"no command for {other.GetType().Name}"),
    };

    /// <summary>
    /// The suite's own settings with its defaults and the shared --runs, --qemu, --no-qemu and --cpu-engine; density runs once,
    /// since one run already fills the host for up to 10 minutes per hypervisor (<c>vessel bench density --runs N</c> for more).
    /// </summary>
    public static SideBySideSettings SuiteSettings(string suite, Settings common, string? json) => suite switch
    {
        "boot" => new BenchBootCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json },
        "cpu" => new BenchCpuCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json },
        "disk" => new BenchDiskCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json },
        "net" => new BenchNetCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json },
        "memory" => new BenchMemoryCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json },
        "snapshot" => new BenchSnapshotCommand.Settings { Runs = common.Runs, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json },
        "density" => new BenchDensityCommand.Settings { Runs = 1, Qemu = common.Qemu, NoQemu = common.NoQemu, CpuEngine = common.CpuEngine, Json = json },
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "not a suite"),
    };
}
