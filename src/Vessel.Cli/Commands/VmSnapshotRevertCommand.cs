using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm snapshot revert NAME SNAP</c>: the VM goes back to the snapshot's instant (a running VM restarts from it).</summary>
public sealed class VmSnapshotRevertCommand : ApiCommand<VmSnapshotSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmSnapshotSettings settings, CancellationToken cancellationToken)
    {
        client.Timeout = TimeSpan.FromMinutes(3);
        PrintVm(await client.GetJsonAsync(HttpMethod.Post,
            $"api/vms/{Uri.EscapeDataString(settings.Name)}/snapshots/{Uri.EscapeDataString(settings.Snapshot)}/revert"), settings.Json);
        return 0;
    }
}
