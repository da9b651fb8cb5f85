using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm delete NAME</c>: removes the definition (disk images stay).</summary>
public sealed class VmDeleteCommand : ApiCommand<VmNameSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmNameSettings settings, CancellationToken cancellationToken)
    {
        await client.SendAsync(HttpMethod.Delete, $"api/vms/{Uri.EscapeDataString(settings.Name)}", cancellationToken: cancellationToken);
        if (!settings.Json)
        {
            System.Console.WriteLine($"deleted {settings.Name}");
        }

        return 0;
    }
}
