namespace Vessel.Storage;

/// <summary>
/// What a format's consistency check found (<c>qemu-img check</c>); <see cref="ExitCode"/> follows qemu-img check
/// (0 clean, 2 corrupt, 3 leaks). Cluster counts are in the format's allocation unit (qcow2 cluster, VMDK grain,
/// VDI block); <see cref="ImageEndOffset"/> is only known for formats that track it.
/// </summary>
public sealed record ImageCheckResult(
    int Corruptions,
    int LeakedClusters,
    IReadOnlyList<string> Messages,
    ulong AllocatedClusters,
    ulong TotalClusters,
    ulong CompressedClusters,
    ulong? ImageEndOffset)
{
    public bool IsClean => Corruptions == 0 && LeakedClusters == 0;

    public int ExitCode => Corruptions > 0 ? 2 : LeakedClusters > 0 ? 3 : 0;
}
