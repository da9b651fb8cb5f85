using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;
using Vessel.Machine.Abstractions;

namespace Vessel.Cli.Commands;

/// <summary>Base of the commands that call the supervisor's API: client set-up, errors as one line and status 1.</summary>
public abstract class ApiCommand<TSettings> : AsyncCommand<TSettings>
    where TSettings : VmSettings
{
    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        using var client = new VesselApiClient(StateDirectory.Resolve(settings.StateDir));
        try
        {
            return await RunAsync(client, settings, cancellationToken);
        }
        catch (VesselApiException e)
        {
            System.Console.Error.WriteLine($"vessel {context.Name}: {e.Message}");
            return 1;
        }
    }

    protected abstract Task<int> RunAsync(VesselApiClient client, TSettings settings, CancellationToken cancellationToken);

    /// <summary>One VM as a two-column table (or its JSON).</summary>
    protected static void PrintVm(JsonElement vm, bool json)
    {
        if (json)
        {
            System.Console.WriteLine(vm.GetRawText());
            return;
        }

        var d = vm.GetProperty("definition");
        var table = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        table.AddRow("name", Markup.Escape(d.GetProperty("name").GetString()!));
        bool paused = vm.TryGetProperty("paused", out var p) && p.ValueKind == JsonValueKind.True;
        table.AddRow("state", vm.GetProperty("state").GetString()! + (paused ? " (paused)" : string.Empty));
        table.AddRow("pid", vm.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number ? pid.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) : "-");
        table.AddRow("vcpus", d.GetProperty("cpus").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("memory", DataSize.Format(d.GetProperty("memoryBytes").GetUInt64()));
        table.AddRow("kernel", Markup.Escape(d.GetProperty("kernel").GetString() ?? "default guest kit"));
        table.AddRow("cmdline", Markup.Escape(d.GetProperty("commandLine").GetString()!));
        foreach (var disk in d.GetProperty("disks").EnumerateArray())
        {
            table.AddRow("disk", Markup.Escape($"{disk.GetProperty("path").GetString()} ({disk.GetProperty("format").GetString() ?? "auto"}{(disk.GetProperty("readOnly").GetBoolean() ? ", read-only" : string.Empty)})"));
        }

        foreach (var nic in d.GetProperty("nics").EnumerateArray())
        {
            table.AddRow("nic", Markup.Escape(nic.GetString()!));
        }

        table.AddRow("restart", d.GetProperty("restartPolicy").GetString()!);
        table.AddRow("restarts", vm.GetProperty("restarts").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("console", Markup.Escape(vm.GetProperty("consoleSocket").GetString()!));
        if (vm.TryGetProperty("stats", out var stats) && stats.ValueKind == JsonValueKind.Object)
        {
            double uptime = stats.GetProperty("uptimeSeconds").GetDouble();
            ulong instructions = stats.GetProperty("instructionsRetired").GetUInt64();
            table.AddRow("uptime", $"{uptime:F1} s");
            table.AddRow("instructions", $"{instructions:N0} ({instructions / Math.Max(uptime, 1e-9) / 1e6:F1} MIPS average)");
        }

        AnsiConsole.Write(table);
    }
}
