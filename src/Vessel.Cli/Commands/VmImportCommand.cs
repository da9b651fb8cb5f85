using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm import FILE [--name NEW]</c>: create a VM from an exported archive, verifying its checksums.</summary>
public sealed class VmImportCommand : ApiCommand<VmImportCommand.Settings>
{
    public sealed class Settings : VmSettings
    {
        [CommandArgument(0, "<FILE>")]
        public string File { get; init; } = string.Empty;

        [CommandOption("--name <NEW>")]
        [Description("Name for the imported VM (it then also gets new MACs). Default: the archived name.")]
        public string? Name { get; init; }
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        PrintVm(await client.GetJsonAsync(HttpMethod.Post, "api/vms/import", new { path = Path.GetFullPath(settings.File), name = settings.Name }), settings.Json);
        return 0;
    }
}
