using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Commands;

namespace Vessel.Cli.Benchmarks;

/// <summary>The options every side-by-side suite shares: how many runs, which QEMU (or none), and a JSON report.</summary>
public abstract class SideBySideSettings : CommandSettings
{
    public const int MaxRuns = 100;

    [CommandOption("--runs <N>")]
    [Description("Runs per case and hypervisor.")]
    [DefaultValue(3)]
    public int Runs { get; init; } = 3;

    [CommandOption("--qemu <BINARY>")]
    [Description("QEMU to compare with.")]
    [DefaultValue(QemuGuestRunner.DefaultBinary)]
    public string Qemu { get; init; } = QemuGuestRunner.DefaultBinary;

    [CommandOption("--no-qemu")]
    [Description("Measure Vessel only.")]
    public bool NoQemu { get; init; }

    [CommandOption(CpuEngineOption.Template)]
    [Description(CpuEngineOption.Description)]
    public string? CpuEngine { get; init; }

    /// <summary>The engine <see cref="CpuEngine"/> or, without it, the environment selects (valid once <see cref="Validate"/> passed).</summary>
    public Vessel.RiscV.CpuEngine Engine => CpuEngineOption.Resolve(CpuEngine);

    [CommandOption("--json <FILE>")]
    [Description("Also write every measurement and the summary as JSON.")]
    public string? Json { get; init; }

    public sealed override ValidationResult Validate() =>
        Runs is < 1 or > MaxRuns ? ValidationResult.Error($"--runs must be between 1 and {MaxRuns}.")
        : CpuEngineOption.Problem(CpuEngine) is { } engineProblem ? ValidationResult.Error(engineProblem)
        : ValidateSuite();

    /// <summary>The suite's own options, checked after the shared ones.</summary>
    protected virtual ValidationResult ValidateSuite() => ValidationResult.Success();
}
