using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm snapshot list NAME</c>: the VM's snapshots as a tree (children indented under their parent; * marks the current one).</summary>
public sealed class VmSnapshotListCommand : ApiCommand<VmNameSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmNameSettings settings, CancellationToken cancellationToken)
    {
        var snapshots = await client.GetJsonAsync(HttpMethod.Get, $"api/vms/{Uri.EscapeDataString(settings.Name)}/snapshots");
        if (settings.Json)
        {
            System.Console.WriteLine(snapshots.GetRawText());
            return 0;
        }

        var items = snapshots.EnumerateArray().ToList();
        if (items.Count == 0)
        {
            System.Console.WriteLine($"VM {settings.Name} has no snapshots");
            return 0;
        }

        var table = new Table().AddColumns("NAME", "PARENT", "CREATED", "DESCRIPTION");
        foreach (var (s, depth) in SnapshotTree.Order(items, Name, Parent))
        {
            string marker = s.GetProperty("current").GetBoolean() ? " *" : string.Empty;
            table.AddRow(
                Markup.Escape(new string(' ', 2 * depth) + Name(s) + marker),
                Markup.Escape(Parent(s) ?? "-"),
                s.GetProperty("created").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Markup.Escape(s.GetProperty("description").GetString() ?? string.Empty));
        }

        AnsiConsole.Write(table);
        System.Console.WriteLine("* current: the snapshot the VM's state descends from");
        return 0;
    }

    private static string Name(JsonElement s) => s.GetProperty("name").GetString()!;

    private static string? Parent(JsonElement s) => s.GetProperty("parent").GetString();
}
