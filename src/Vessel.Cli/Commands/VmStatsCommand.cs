using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;
using Vessel.Machine.Abstractions;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm stats NAME [--json] [--watch]</c>: a VM's live numbers from GET /api/vms/NAME/stats.</summary>
public sealed class VmStatsCommand : ApiCommand<VmStatsCommand.Settings>
{
    public sealed class Settings : VmNameSettings
    {
        [CommandOption("-w|--watch")]
        [Description("Refresh every second until Ctrl-C (with --json: one JSON object per line).")]
        public bool Watch { get; init; }

        [CommandOption("--interval <SECONDS>")]
        [Description("Seconds between refreshes with --watch (default 1).")]
        public double Interval { get; init; } = 1;

        public override ValidationResult Validate() =>
            Interval is < 0.5 or > 3600 ? ValidationResult.Error($"--interval {Interval}: give 0.5 to 3600 seconds.") : ValidationResult.Success();
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        string path = $"api/vms/{Uri.EscapeDataString(settings.Name)}/stats";
        if (!settings.Watch)
        {
            Print(await client.GetJsonAsync(HttpMethod.Get, path), settings.Json);
            return 0;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        System.Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        while (!stop.IsCancellationRequested)
        {
            var stats = await client.GetJsonAsync(HttpMethod.Get, path);
            if (!settings.Json && !System.Console.IsOutputRedirected)
            {
                AnsiConsole.Clear();
            }

            Print(stats, settings.Json);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(settings.Interval), stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return 0;
    }

    private static void Print(JsonElement s, bool json)
    {
        if (json)
        {
            System.Console.WriteLine(s.GetRawText());
            return;
        }

        static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        table.AddRow("name", Markup.Escape(s.GetProperty("name").GetString()!));
        table.AddRow("state", s.GetProperty("state").GetString()!);
        table.AddRow("uptime", $"{s.GetProperty("uptimeSeconds").GetDouble():F1} s");
        table.AddRow("cpu", $"{s.GetProperty("cpuPercent").GetDouble():F1} % of a core ({s.GetProperty("cpus").GetInt32()} vCPU, {s.GetProperty("cpuSeconds").GetDouble():F1} s used)");
        table.AddRow("instructions", $"{N(s.GetProperty("instructionsPerSecond").GetDouble() / 1e6)} M/s ({N(s.GetProperty("instructionsRetired").GetUInt64())} retired)");
        table.AddRow("memory", $"{DataSize.Format(s.GetProperty("rssBytes").GetUInt64())} resident of {DataSize.Format(s.GetProperty("memoryBytes").GetUInt64())} guest RAM");
        if (s.TryGetProperty("balloon", out var b) && b.ValueKind == JsonValueKind.Object)
        {
            table.AddRow("balloon", $"{DataSize.Format(b.GetProperty("actualBytes").GetUInt64())} taken back (target {DataSize.Format(b.GetProperty("targetBytes").GetUInt64())})");
        }

        foreach (var d in s.GetProperty("disks").EnumerateArray())
        {
            table.AddRow(
                Markup.Escape(d.GetProperty("device").GetString()!),
                $"read {DataSize.Format(d.GetProperty("readBytes").GetUInt64())} in {N(d.GetProperty("readOps").GetUInt64())} ops, " +
                $"written {DataSize.Format(d.GetProperty("writeBytes").GetUInt64())} in {N(d.GetProperty("writeOps").GetUInt64())} ops" +
                (d.GetProperty("throttled").GetUInt64() is > 0 and var t ? $", throttled {N(t)}" : string.Empty));
        }

        foreach (var n in s.GetProperty("nics").EnumerateArray())
        {
            table.AddRow(
                Markup.Escape(n.GetProperty("device").GetString()!),
                $"rx {DataSize.Format(n.GetProperty("rxBytes").GetUInt64())} in {N(n.GetProperty("rxPackets").GetUInt64())} packets, " +
                $"tx {DataSize.Format(n.GetProperty("txBytes").GetUInt64())} in {N(n.GetProperty("txPackets").GetUInt64())} packets");
        }

        AnsiConsole.Write(table);
    }
}
