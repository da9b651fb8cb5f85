using Spectre.Console.Cli;

namespace Vessel.Cli.Commands;

/// <summary>Settings of the <c>vessel vm</c> commands that act on one VM.</summary>
public class VmNameSettings : VmSettings
{
    [CommandArgument(0, "<NAME>")]
    public string Name { get; init; } = string.Empty;
}
