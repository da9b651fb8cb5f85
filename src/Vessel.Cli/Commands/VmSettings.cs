using System.ComponentModel;
using Spectre.Console.Cli;

namespace Vessel.Cli.Commands;

/// <summary>Options every <c>vessel vm</c>/<c>vessel host</c> command takes.</summary>
public class VmSettings : CommandSettings
{
    [CommandOption("--state-dir <DIR>")]
    [Description("The supervisor's state directory (its API socket is DIR/vessel.sock). Default: ~/.local/share/vessel.")]
    public string? StateDir { get; init; }

    [CommandOption("--json")]
    [Description("Print the API's JSON instead of a table.")]
    public bool Json { get; init; }
}
