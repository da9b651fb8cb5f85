using Vessel.Devices.Virtio;

namespace Vessel.Hosting;

/// <summary>
/// <c>vessel vm balloon</c>: the supervisor turns "the guest should be left with N MiB" into a virtio-balloon target
/// (the VM's memory minus N, in 4 KiB pages) and hands it to the worker, whose guest driver inflates or deflates.
/// </summary>
public sealed partial class VmSupervisor
{
    private static readonly TimeSpan BalloonTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Sets the guest's memory after inflation to <paramref name="targetMiB"/> MiB. Throws
    /// <see cref="VmValidationException"/> for a size outside 1 MiB..the VM's memory and
    /// <see cref="VmConflictException"/> when the VM is not running or its worker refuses.
    /// </summary>
    public async Task<VmInfo> SetBalloonAsync(string name, long targetMiB)
    {
        var definition = Registry.Get(name);
        ulong memoryMiB = definition.MemoryBytes >> 20;
        if (targetMiB <= 0 || (ulong)targetMiB > memoryMiB)
        {
            throw new VmValidationException(new Dictionary<string, string[]>
            {
                ["targetMiB"] = [$"the guest's memory after ballooning must be 1..{memoryMiB} MiB (the VM's memory), not {targetMiB}"],
            });
        }

        var runtime = Runtime(name);
        if (runtime.State is not VmState.Running)
        {
            throw new VmConflictException($"VM '{name}' is not running (it is {runtime.State.ToString().ToLowerInvariant()}); start it first");
        }

        ulong balloonPages = (definition.MemoryBytes - ((ulong)targetMiB << 20)) >> VirtioBalloon.PfnShift;
        if (await WorkerControlClient.SetBalloonAsync(Paths(name).ControlSocket, balloonPages, BalloonTimeout) is { } error)
        {
            throw new VmConflictException($"VM '{name}': {error}");
        }

        Registry.Record(name, "balloon", $"guest memory target {targetMiB} MiB (balloon {balloonPages >> 8} MiB)");
        return Get(name);
    }
}
