using Vessel.Devices.Virtio;
using Vessel.Machine;

namespace Vessel.Hosting;

/// <summary>
/// Device counters of a worker across guest reboots: each reboot builds a new machine whose devices count from zero,
/// so the counts of machines that ended are kept and added to the running one's (a counter only goes up).
/// </summary>
public sealed class WorkerDeviceCounters
{
    private readonly Lock _lock = new();
    private DiskStatistics[] _retiredDisks = [];
    private NicStatistics[] _retiredNics = [];

    /// <summary>Adds a machine that is ending to the totals.</summary>
    public void Retire(VirtMachine machine)
    {
        lock (_lock)
        {
            var (disks, nics) = Read(machine);
            _retiredDisks = Add(_retiredDisks, disks, AddDisk);
            _retiredNics = Add(_retiredNics, nics, AddNic);
        }
    }

    /// <summary>Totals so far, including <paramref name="running"/> (null between boots).</summary>
    public (IReadOnlyList<DiskStatistics> Disks, IReadOnlyList<NicStatistics> Nics) Totals(VirtMachine? running)
    {
        lock (_lock)
        {
            if (running is null)
            {
                return (_retiredDisks, _retiredNics);
            }

            var (disks, nics) = Read(running);
            return (Add(_retiredDisks, disks, AddDisk), Add(_retiredNics, nics, AddNic));
        }
    }

    private static (DiskStatistics[] Disks, NicStatistics[] Nics) Read(VirtMachine machine)
    {
        var disks = new List<DiskStatistics>();
        var nics = new List<NicStatistics>();
        foreach (var device in machine.VirtioDevices)
        {
            switch (device)
            {
                case VirtioBlock b:
                    disks.Add(new DiskStatistics($"vd{(char)('a' + disks.Count)}", b.BytesRead, b.ReadRequests, b.BytesWritten, b.WriteRequests, b.Throttled));
                    break;
                case VirtioNetwork n:
                    nics.Add(new NicStatistics(
                        $"eth{nics.Count}", (ulong)n.ReceivedBytes, (ulong)n.ReceivedFrames, (ulong)n.TransmittedBytes, (ulong)n.TransmittedFrames,
                        (ulong)n.ReceiveDropped, (ulong)n.TransmitDropped, n.Throttled));
                    break;
            }
        }

        return ([.. disks], [.. nics]);
    }

    private static T[] Add<T>(T[] retired, T[] current, Func<T, T, T> add)
    {
        var result = new T[Math.Max(retired.Length, current.Length)];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = i >= retired.Length ? current[i] : i >= current.Length ? retired[i] : add(retired[i], current[i]);
        }

        return result;
    }

    private static DiskStatistics AddDisk(DiskStatistics a, DiskStatistics b) =>
        new(a.Device, a.ReadBytes + b.ReadBytes, a.ReadOps + b.ReadOps, a.WriteBytes + b.WriteBytes, a.WriteOps + b.WriteOps, a.Throttled + b.Throttled);

    private static NicStatistics AddNic(NicStatistics a, NicStatistics b) =>
        new(a.Device, a.RxBytes + b.RxBytes, a.RxPackets + b.RxPackets, a.TxBytes + b.TxBytes, a.TxPackets + b.TxPackets,
            a.RxDropped + b.RxDropped, a.TxDropped + b.TxDropped, a.Throttled + b.Throttled);
}
