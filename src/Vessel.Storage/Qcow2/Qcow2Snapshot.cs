namespace Vessel.Storage.Qcow2;

/// <summary>
/// One entry of a qcow2 snapshot table (QEMU docs/interop/qcow2.txt, "Snapshots"): a frozen copy of the active L1
/// table plus identification and timing. <see cref="Icount"/> is -1 when record/replay was off.
/// </summary>
public sealed record Qcow2Snapshot(
    string Id,
    string Name,
    ulong L1TableOffset,
    uint L1Size,
    uint DateSeconds,
    uint DateNanoseconds,
    ulong VmClockNanoseconds,
    ulong VmStateSize,
    ulong DiskSize,
    long Icount)
{
    /// <summary>Extra data bytes beyond the fields Vessel knows; written back unchanged (spec: "Unknown fields must be ignored").</summary>
    internal byte[] UnknownExtraData { get; init; } = [];

    public DateTimeOffset Date => DateTimeOffset.FromUnixTimeSeconds(DateSeconds).AddTicks(DateNanoseconds / 100);
}
