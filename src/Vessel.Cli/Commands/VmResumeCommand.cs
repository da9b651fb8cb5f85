using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm resume NAME</c>: lets a paused VM's harts run again.</summary>
public sealed class VmResumeCommand : ApiCommand<VmNameSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmNameSettings settings, CancellationToken cancellationToken)
    {
        PrintVm(await client.GetJsonAsync(HttpMethod.Post, $"api/vms/{Uri.EscapeDataString(settings.Name)}/resume"), settings.Json);
        return 0;
    }
}
