using System.Globalization;
using Spectre.Console;
using Vessel.Cli.Hosting;
using Vessel.Machine.Abstractions;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm list</c>.</summary>
public sealed class VmListCommand : ApiCommand<VmSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmSettings settings, CancellationToken cancellationToken)
    {
        var vms = await client.GetJsonAsync(HttpMethod.Get, "api/vms");
        if (settings.Json)
        {
            System.Console.WriteLine(vms.GetRawText());
            return 0;
        }

        var table = new Table().AddColumns("NAME", "STATE", "VCPUS", "MEMORY", "RESTART", "PID");
        foreach (var vm in vms.EnumerateArray())
        {
            var d = vm.GetProperty("definition");
            table.AddRow(
                Markup.Escape(d.GetProperty("name").GetString()!),
                vm.GetProperty("state").GetString()!,
                d.GetProperty("cpus").GetInt32().ToString(CultureInfo.InvariantCulture),
                DataSize.Format(d.GetProperty("memoryBytes").GetUInt64()),
                d.GetProperty("restartPolicy").GetString()!,
                vm.GetProperty("pid").ValueKind == System.Text.Json.JsonValueKind.Number ? vm.GetProperty("pid").GetInt32().ToString(CultureInfo.InvariantCulture) : "-");
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
