using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;
using Vessel.Machine.Abstractions;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel vm balloon NAME SIZE</c>: leaves the running guest SIZE of memory (like <c>--memory</c>: 256M, 1G) by
/// inflating its virtio-balloon; the rest goes back to the host. SIZE equal to the VM's memory empties the balloon.
/// </summary>
public sealed class VmBalloonCommand : ApiCommand<VmBalloonCommand.Settings>
{
    public sealed class Settings : VmNameSettings
    {
        [CommandArgument(1, "<SIZE>")]
        public string Size { get; init; } = string.Empty;

        public override ValidationResult Validate() =>
            !DataSize.TryParse(Size, out ulong bytes) || bytes < 1 << 20 || bytes % (1 << 20) != 0
                ? ValidationResult.Error($"SIZE '{Size}': give a whole number of MiB such as 256M or 1G.")
                : ValidationResult.Success();
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        DataSize.TryParse(settings.Size, out ulong bytes);
        var body = new { targetMiB = (long)(bytes >> 20) };
        PrintVm(await client.GetJsonAsync(HttpMethod.Put, $"api/vms/{Uri.EscapeDataString(settings.Name)}/balloon", body), settings.Json);
        return 0;
    }
}
