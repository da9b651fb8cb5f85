using Spectre.Console.Cli;
using Vessel.Cli.Benchmarks;
using Vessel.Cli.Commands;

namespace Vessel.Cli.Tests;

public sealed class BenchOptionTests
{
    [Fact]
    public void SeveralSuitesGoToBenchAll()
    {
        Assert.Equal(["bench", "all", "cpu", "net", "--runs", "1"], BenchCommandLine.Normalize(["bench", "cpu", "net", "--runs", "1"]));
    }

    [Theory]
    [InlineData("bench", "cpu", "--runs", "1")]
    [InlineData("bench", "--runs", "1")]
    [InlineData("bench")]
    [InlineData("run", "boot", "cpu")]
    [InlineData("bench", "disk", "--formats", "raw")]
    public void OtherCommandLinesPassUnchanged(params string[] args)
    {
        Assert.Equal(args, BenchCommandLine.Normalize(args));
    }

    [Fact]
    public void EveryListedSuiteHasACommandInBenchAll()
    {
        Assert.Equal(["boot", "cpu", "disk", "net", "memory", "snapshot", "density"], BenchCommandLine.Suites);
        Assert.Equal(BenchCommandLine.Suites, new BenchAllCommand.Settings().SuiteList);
    }

    [Fact]
    public void BenchAllPassesTheSharedOptionsToEverySuite()
    {
        var common = new BenchAllCommand.Settings { Runs = 2, Qemu = "/opt/qemu", NoQemu = true, CpuEngine = "interp" };
        Assert.All(BenchCommandLine.Suites, suite =>
        {
            SideBySideSettings settings = BenchAllCommand.SuiteSettings(suite, common, $"/tmp/{suite}.json");
            int runs = suite == "density" ? 1 : 2; // one density run fills the host for up to 10 minutes per hypervisor
            Assert.Equal((runs, "/opt/qemu", true, "interp", $"/tmp/{suite}.json"), (settings.Runs, settings.Qemu, settings.NoQemu, settings.CpuEngine, settings.Json));
        });
    }

    [Fact]
    public void ReportHoldsFinishedSuitesAndNullForTheRest()
    {
        string directory = Directory.CreateTempSubdirectory("vessel-bench-report-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "boot.json"), """{"samples":[1,2]}""");
            string report = Path.Combine(directory, "all.json");
            BenchAllCommand.WriteReport(report, ["boot", "cpu"], directory);
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(report))!.AsObject();
            Assert.Equal(2, json["boot"]!["samples"]!.AsArray().Count);
            Assert.True(json.ContainsKey("cpu"));
            Assert.Null(json["cpu"]);
            Assert.False(File.Exists(report + ".tmp"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void UnknownSuiteIsRefusedByName()
    {
        var result = new BenchAllCommand.Settings { Suites = ["cpu", "snapshots"] }.Validate();
        Assert.False(result.Successful);
        Assert.Contains("'snapshots'", result.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void RunsOutOfRangeAreRefusedForEverySuite(int runs)
    {
        SideBySideSettings[] all =
        [
            new BenchAllCommand.Settings { Runs = runs }, new BenchBootCommand.Settings { Runs = runs }, new BenchCpuCommand.Settings { Runs = runs },
            new BenchDiskCommand.Settings { Runs = runs }, new BenchNetCommand.Settings { Runs = runs }, new BenchMemoryCommand.Settings { Runs = runs },
            new BenchDensityCommand.Settings { Runs = runs },
        ];
        Assert.All(all, s => Assert.Contains("--runs", s.Validate().Message));
    }

    [Fact]
    public void DefaultsAreValid()
    {
        SideBySideSettings[] all =
        [
            new BenchAllCommand.Settings(), new BenchBootCommand.Settings(), new BenchCpuCommand.Settings(), new BenchDiskCommand.Settings(),
            new BenchNetCommand.Settings(), new BenchMemoryCommand.Settings(), new BenchDensityCommand.Settings(),
        ];
        Assert.All(all, s => Assert.True(s.Validate().Successful, s.Validate().Message));
    }

    [Fact]
    public void SuiteOptionsAreChecked()
    {
        Assert.Contains("--links", new BenchNetCommand.Settings { Links = "nat,wifi" }.Validate().Message);
        Assert.Equal(["nat", "vm"], new BenchNetCommand.Settings { Links = " nat , vm " }.LinkList);
        Assert.Contains("--reserve", new BenchDensityCommand.Settings { ReserveMiB = 1024 }.Validate().Message);
        Assert.Contains("--minutes", new BenchDensityCommand.Settings { Minutes = 0 }.Validate().Message);
        Assert.Contains("--count", new BenchMemoryCommand.Settings { Count = 1 }.Validate().Message);
        Assert.Contains("--native-scale", new BenchCpuCommand.Settings { NativeScale = 0 }.Validate().Message);
    }

    [Fact]
    public void OptionsParseThroughTheCommandLine()
    {
        var app = new CommandApp();
        app.Configure(c => c.AddBranch("bench", b => b.AddCommand<CaptureDensitySettings>("density")));
        CaptureDensitySettings.Seen = null;
        Assert.Equal(0, app.Run(["bench", "density", "--max-vms", "3", "--minutes", "0.5", "--no-qemu", "--runs", "1", "--json", "d.json"]));

        var seen = CaptureDensitySettings.Seen;
        Assert.NotNull(seen);
        Assert.Equal(3, seen.MaxVms);
        Assert.Equal(0.5, seen.Minutes);
        Assert.True(seen.NoQemu);
        Assert.Equal(1, seen.Runs);
        Assert.Equal("d.json", seen.Json);
        Assert.Equal(128, seen.MemoryMiB);
        Assert.NotEqual(0, app.Run(["bench", "density", "--reserve", "100"]));
    }

    /// <summary>Stands in for the density command: keeps the parsed settings instead of starting VMs.</summary>
    private sealed class CaptureDensitySettings : Command<BenchDensityCommand.Settings>
    {
        public static BenchDensityCommand.Settings? Seen { get; set; }

        public override int Execute(CommandContext context, BenchDensityCommand.Settings settings, CancellationToken cancellationToken)
        {
            Seen = settings;
            return 0;
        }
    }
}
