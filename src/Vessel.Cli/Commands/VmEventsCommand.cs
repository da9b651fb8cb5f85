using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm events NAME [--follow]</c>: the VM's history, and with --follow every new event as it happens.</summary>
public sealed class VmEventsCommand : ApiCommand<VmEventsCommand.Settings>
{
    public sealed class Settings : VmNameSettings
    {
        [CommandOption("-f|--follow")]
        [Description("Keep printing new events as they happen (like tail -f) until Ctrl-C; with --json, one JSON object per line.")]
        public bool Follow { get; init; }
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        var events = await Fetch(client, settings.Name);
        if (!settings.Follow)
        {
            if (settings.Json)
            {
                System.Console.WriteLine(events.GetRawText());
                return 0;
            }

            var table = new Table().AddColumns("TIME", "EVENT", "DETAIL");
            foreach (var e in events.EnumerateArray())
            {
                table.AddRow(Time(e), e.GetProperty("kind").GetString()!, Markup.Escape(e.GetProperty("message").GetString()!));
            }

            AnsiConsole.Write(table);
            return 0;
        }

        // The API keeps the history in SQLite; following polls it once a second and prints what is newer than the
        // last event seen (ids only grow), which is cheap and survives a supervisor restart between polls.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        System.Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        long last = long.MinValue;
        while (true)
        {
            foreach (var e in events.EnumerateArray())
            {
                long id = e.GetProperty("id").GetInt64();
                if (id <= last)
                {
                    continue;
                }

                last = id;
                if (settings.Json)
                {
                    System.Console.WriteLine(e.GetRawText());
                }
                else
                {
                    AnsiConsole.MarkupLine($"{Time(e)}  [bold]{Markup.Escape(e.GetProperty("kind").GetString()!),-12}[/] {Markup.Escape(e.GetProperty("message").GetString()!)}");
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop.Token);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }

            events = await Fetch(client, settings.Name);
        }
    }

    private static Task<JsonElement> Fetch(VesselApiClient client, string name) =>
        client.GetJsonAsync(HttpMethod.Get, $"api/vms/{Uri.EscapeDataString(name)}/events?limit=1000");

    private static string Time(JsonElement e) =>
        e.GetProperty("time").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
