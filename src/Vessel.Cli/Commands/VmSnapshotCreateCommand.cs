using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm snapshot create NAME SNAP [--description TEXT]</c>: a live snapshot (CPU, devices, RAM, disks at one instant).</summary>
public sealed class VmSnapshotCreateCommand : ApiCommand<VmSnapshotCreateCommand.Settings>
{
    public sealed class Settings : VmSnapshotSettings
    {
        [CommandOption("--description <TEXT>")]
        [Description("What the snapshot is for.")]
        public string? Description { get; init; }
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        // Writing the RAM of a large VM on a loaded host takes a while; the server allows minutes.
        client.Timeout = TimeSpan.FromMinutes(6);
        var snapshot = await client.GetJsonAsync(HttpMethod.Post, $"api/vms/{Uri.EscapeDataString(settings.Name)}/snapshots",
            new { name = settings.Snapshot, description = settings.Description });
        if (settings.Json)
        {
            System.Console.WriteLine(snapshot.GetRawText());
            return 0;
        }

        string parent = snapshot.GetProperty("parent").GetString() ?? "-";
        string created = snapshot.GetProperty("created").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        AnsiConsole.MarkupLine($"snapshot [bold]{Markup.Escape(settings.Snapshot)}[/] of VM {Markup.Escape(settings.Name)} created {created} (parent {Markup.Escape(parent)})");
        return 0;
    }
}
