namespace Vessel.Storage.Qcow2;

/// <summary>
/// What <see cref="Qcow2Repairer"/> did: the check before, the "Repairing cluster" lines, the counts fixed, and the
/// check after (its exit code is the repair's, like qemu-img check -r).
/// </summary>
public sealed record Qcow2RepairResult(
    ImageCheckResult Before,
    IReadOnlyList<string> RepairMessages,
    int LeaksFixed,
    int CorruptionsFixed,
    ImageCheckResult After);
