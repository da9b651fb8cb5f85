namespace Vessel.Hosting;

/// <summary>One virtio-blk disk's counters since the worker started (<c>vda</c>, <c>vdb</c>, … in definition order).</summary>
public sealed record DiskStatistics(string Device, ulong ReadBytes, ulong ReadOps, ulong WriteBytes, ulong WriteOps, ulong Throttled);
