using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm pause NAME</c>: stops the VM's harts where they are; the worker and its RAM stay.</summary>
public sealed class VmPauseCommand : ApiCommand<VmNameSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmNameSettings settings, CancellationToken cancellationToken)
    {
        PrintVm(await client.GetJsonAsync(HttpMethod.Post, $"api/vms/{Uri.EscapeDataString(settings.Name)}/pause"), settings.Json);
        return 0;
    }
}
