using System.Globalization;
using Spectre.Console;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm events NAME</c>: the VM's history.</summary>
public sealed class VmEventsCommand : ApiCommand<VmNameSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmNameSettings settings, CancellationToken cancellationToken)
    {
        var events = await client.GetJsonAsync(HttpMethod.Get, $"api/vms/{Uri.EscapeDataString(settings.Name)}/events?limit=1000");
        if (settings.Json)
        {
            System.Console.WriteLine(events.GetRawText());
            return 0;
        }

        var table = new Table().AddColumns("TIME", "EVENT", "DETAIL");
        foreach (var e in events.EnumerateArray())
        {
            table.AddRow(e.GetProperty("time").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), e.GetProperty("kind").GetString()!, Markup.Escape(e.GetProperty("message").GetString()!));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
