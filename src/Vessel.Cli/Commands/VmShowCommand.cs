using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm show NAME</c>: definition, state and live numbers.</summary>
public sealed class VmShowCommand : ApiCommand<VmNameSettings>
{
    protected override async Task<int> RunAsync(VesselApiClient client, VmNameSettings settings, CancellationToken cancellationToken)
    {
        PrintVm(await client.GetJsonAsync(HttpMethod.Get, $"api/vms/{Uri.EscapeDataString(settings.Name)}"), settings.Json);
        return 0;
    }
}
