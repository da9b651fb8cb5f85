using System.Globalization;
using Spectre.Console;
using Vessel.Cli.Hosting;
using Vessel.Machine.Abstractions;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel host</c>: capacity, what running VMs hold of it, and what their workers really use.</summary>
public sealed class HostCommand : ApiCommand<VmSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmSettings settings, CancellationToken cancellationToken)
    {
        var host = await client.GetJsonAsync(HttpMethod.Get, "api/host");
        if (settings.Json)
        {
            System.Console.WriteLine(host.GetRawText());
            return 0;
        }

        var table = new Table().AddColumns("", "CAPACITY", "ALLOCATED", "USED");
        table.AddRow(
            "cores", host.GetProperty("cores").GetInt32().ToString(CultureInfo.InvariantCulture),
            host.GetProperty("allocatedCpus").GetInt32().ToString(CultureInfo.InvariantCulture) + " vCPU",
            (host.GetProperty("usedCpuPercent").GetDouble() / 100).ToString("F2", CultureInfo.InvariantCulture) + " cores busy");
        table.AddRow(
            "memory", DataSize.Format(host.GetProperty("memoryBytes").GetUInt64()), DataSize.Format(host.GetProperty("allocatedMemoryBytes").GetUInt64()),
            DataSize.Format(host.GetProperty("usedMemoryBytes").GetUInt64()) + " RSS");
        table.AddRow(
            "VMs", host.GetProperty("definedVms").GetInt32().ToString(CultureInfo.InvariantCulture) + " defined",
            host.GetProperty("runningVms").GetInt32().ToString(CultureInfo.InvariantCulture) + " running",
            host.GetProperty("allowOvercommit").GetBoolean() ? "overcommit allowed" : string.Empty);
        AnsiConsole.Write(table);
        return 0;
    }
}
