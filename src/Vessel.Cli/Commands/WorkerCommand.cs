using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;
using Vessel.Hosting;

namespace Vessel.Cli.Commands;

/// <summary>The hidden <c>vessel worker</c>: runs one VM for the supervisor (not meant to be typed by people).</summary>
public sealed class WorkerCommand : Command<WorkerCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<NAME>")]
        public string Name { get; init; } = string.Empty;

        [CommandOption("--state-dir <DIR>")]
        [Description("The supervisor's state directory.")]
        public string? StateDir { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        new VmWorker(StateDirectory.Resolve(settings.StateDir), settings.Name).Run(System.Console.Error, CancellationToken.None);
}
