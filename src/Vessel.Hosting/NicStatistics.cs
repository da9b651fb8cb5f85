namespace Vessel.Hosting;

/// <summary>One virtio-net NIC's counters since the worker started (<c>eth0</c>, … in definition order).</summary>
public sealed record NicStatistics(
    string Device, ulong RxBytes, ulong RxPackets, ulong TxBytes, ulong TxPackets, ulong RxDropped, ulong TxDropped, ulong Throttled);
