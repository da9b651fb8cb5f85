using Spectre.Console.Cli;

namespace Vessel.Cli.Commands;

/// <summary>Settings of the <c>vessel vm snapshot</c> commands that act on one snapshot of one VM.</summary>
public class VmSnapshotSettings : VmNameSettings
{
    [CommandArgument(1, "<SNAPSHOT>")]
    public string Snapshot { get; init; } = string.Empty;
}
