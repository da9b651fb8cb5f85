using Spectre.Console.Cli;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm export NAME FILE</c>: write a stopped VM to one portable archive.</summary>
public sealed class VmExportCommand : ApiCommand<VmExportCommand.Settings>
{
    public sealed class Settings : VmNameSettings
    {
        [CommandArgument(1, "<FILE>")]
        public string File { get; init; } = string.Empty;
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        var result = await client.GetJsonAsync(HttpMethod.Post, $"api/vms/{Uri.EscapeDataString(settings.Name)}/export", new { path = Path.GetFullPath(settings.File) });
        System.Console.WriteLine(settings.Json
            ? result.GetRawText()
            : $"exported {settings.Name} ({result.GetProperty("disks").GetInt32()} disk(s)) to {result.GetProperty("path").GetString()}, {result.GetProperty("size").GetInt64():N0} bytes");
        return 0;
    }
}
