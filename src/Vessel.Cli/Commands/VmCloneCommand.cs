using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm clone SRC NEW [--linked] [--snapshot SNAP]</c>: clone a stopped VM (new name, new MACs), optionally as it was at a snapshot.</summary>
public sealed class VmCloneCommand : ApiCommand<VmCloneCommand.Settings>
{
    public sealed class Settings : VmNameSettings
    {
        [CommandArgument(1, "<NEW>")]
        public string NewName { get; init; } = string.Empty;

        [CommandOption("--linked")]
        [Description("qcow2 overlays on the source's disks instead of copies; the source can then not start or be deleted while the clone exists.")]
        public bool Linked { get; init; }

        [CommandOption("--snapshot <SNAP>")]
        [Description("The disks as they were at this snapshot of the source (copies, or with --linked overlays on images of the snapshot, which then cannot be deleted while the clone exists); the clone boots fresh.")]
        public string? Snapshot { get; init; }
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        PrintVm(await client.GetJsonAsync(HttpMethod.Post, $"api/vms/{Uri.EscapeDataString(settings.Name)}/clone",
            new { name = settings.NewName, linked = settings.Linked, snapshot = settings.Snapshot }), settings.Json);
        return 0;
    }
}
