namespace Vessel.Storage.Qcow2;

/// <summary>What <see cref="Qcow2Checker"/> found; <see cref="ExitCode"/> follows qemu-img check (0 clean, 2 corrupt, 3 leaks).</summary>
public sealed record Qcow2CheckResult(
    int Corruptions,
    int LeakedClusters,
    IReadOnlyList<string> Messages,
    ulong AllocatedClusters,
    ulong TotalClusters,
    ulong CompressedClusters,
    ulong ImageEndOffset)
{
    public bool IsClean => Corruptions == 0 && LeakedClusters == 0;

    public int ExitCode => Corruptions > 0 ? 2 : LeakedClusters > 0 ? 3 : 0;
}
