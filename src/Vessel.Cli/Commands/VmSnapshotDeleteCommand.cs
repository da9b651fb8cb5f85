using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm snapshot delete NAME SNAP</c>: drops the snapshot's state and disk snapshots; its children move up to its parent.</summary>
public sealed class VmSnapshotDeleteCommand : ApiCommand<VmSnapshotSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmSnapshotSettings settings, CancellationToken cancellationToken)
    {
        await client.SendAsync(HttpMethod.Delete, $"api/vms/{Uri.EscapeDataString(settings.Name)}/snapshots/{Uri.EscapeDataString(settings.Snapshot)}", cancellationToken: cancellationToken);
        if (!settings.Json)
        {
            System.Console.WriteLine($"snapshot {settings.Snapshot} of VM {settings.Name} deleted");
        }

        return 0;
    }
}
