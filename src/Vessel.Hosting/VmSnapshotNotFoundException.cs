namespace Vessel.Hosting;

/// <summary>The VM exists but has no snapshot of that name.</summary>
public sealed class VmSnapshotNotFoundException(string vm, string snapshot) : Exception($"VM '{vm}' has no snapshot named '{snapshot}'")
{
    public string Vm { get; } = vm;

    public string Snapshot { get; } = snapshot;
}
