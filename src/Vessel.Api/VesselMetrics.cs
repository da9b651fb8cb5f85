using Prometheus;
using Vessel.Hosting;

namespace Vessel.Api;

/// <summary>
/// The Prometheus exposition at <c>/metrics</c> (issue 6, monitoring): host capacity, allocation and use, and per VM
/// its state, CPU, instructions, RSS, disk and NIC counters. Values are gathered on each scrape (a before-collect
/// callback), so they are as fresh as the scrape; series of deleted VMs, disks and NICs are removed.
/// </summary>
public sealed class VesselMetrics
{
    private readonly VmStatisticsCollector _collector;
    private readonly Gauge _hostCores, _hostMemory, _hostAllocatedCpus, _hostAllocatedMemory, _hostUsedMemory, _hostUsedCpu, _hostRunning;
    private readonly Gauge _vmUp, _vmCpus, _vmMemory, _vmRss, _vmCpuPercent, _vmInstructionRate;
    private readonly Counter _vmCpuSeconds, _vmInstructions;
    private readonly Counter _diskReadBytes, _diskReadOps, _diskWriteBytes, _diskWriteOps, _diskThrottled;
    private readonly Counter _nicRxBytes, _nicRxPackets, _nicTxBytes, _nicTxPackets, _nicRxDropped, _nicTxDropped;

    public VesselMetrics(VmStatisticsCollector collector)
    {
        _collector = collector;
        Registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        _hostCores = f.CreateGauge("vessel_host_cores", "Logical cores of the host.");
        _hostMemory = f.CreateGauge("vessel_host_memory_bytes", "Physical memory of the host.");
        _hostAllocatedCpus = f.CreateGauge("vessel_host_allocated_vcpus", "vCPUs of running VMs.");
        _hostAllocatedMemory = f.CreateGauge("vessel_host_allocated_memory_bytes", "Guest memory of running VMs.");
        _hostUsedMemory = f.CreateGauge("vessel_host_used_memory_bytes", "Resident memory of all VM workers.");
        _hostUsedCpu = f.CreateGauge("vessel_host_used_cpu_percent", "CPU of all VM workers, percent of one core.");
        _hostRunning = f.CreateGauge("vessel_host_running_vms", "VMs with a worker.");
        string[] vm = ["vm"];
        _vmUp = f.CreateGauge("vessel_vm_up", "1 while the VM's worker is running.", vm);
        _vmCpus = f.CreateGauge("vessel_vm_vcpus", "vCPUs in the VM definition.", vm);
        _vmMemory = f.CreateGauge("vessel_vm_memory_bytes", "Guest memory in the VM definition.", vm);
        _vmRss = f.CreateGauge("vessel_vm_resident_memory_bytes", "Resident memory of the VM's worker process.", vm);
        _vmCpuPercent = f.CreateGauge("vessel_vm_cpu_percent", "CPU of the VM's worker, percent of one core, over the last interval.", vm);
        _vmInstructionRate = f.CreateGauge("vessel_vm_instructions_per_second", "Guest instructions retired per second over the last interval.", vm);
        _vmCpuSeconds = f.CreateCounter("vessel_vm_cpu_seconds_total", "CPU time of the VM's worker process.", vm);
        _vmInstructions = f.CreateCounter("vessel_vm_instructions_total", "Guest instructions retired.", vm);
        string[] disk = ["vm", "device"];
        _diskReadBytes = f.CreateCounter("vessel_vm_disk_read_bytes_total", "Bytes read by the guest from a virtio-blk disk.", disk);
        _diskReadOps = f.CreateCounter("vessel_vm_disk_read_ops_total", "Read requests completed.", disk);
        _diskWriteBytes = f.CreateCounter("vessel_vm_disk_write_bytes_total", "Bytes written by the guest to a virtio-blk disk.", disk);
        _diskWriteOps = f.CreateCounter("vessel_vm_disk_write_ops_total", "Write requests completed.", disk);
        _diskThrottled = f.CreateCounter("vessel_vm_disk_throttled_total", "Times a request waited for the disk's rate limiter.", disk);
        string[] nic = ["vm", "device"];
        _nicRxBytes = f.CreateCounter("vessel_vm_net_rx_bytes_total", "Bytes delivered to the guest.", nic);
        _nicRxPackets = f.CreateCounter("vessel_vm_net_rx_packets_total", "Frames delivered to the guest.", nic);
        _nicTxBytes = f.CreateCounter("vessel_vm_net_tx_bytes_total", "Bytes sent by the guest.", nic);
        _nicTxPackets = f.CreateCounter("vessel_vm_net_tx_packets_total", "Frames sent by the guest.", nic);
        _nicRxDropped = f.CreateCounter("vessel_vm_net_rx_dropped_total", "Frames for the guest dropped (receive ring full).", nic);
        _nicTxDropped = f.CreateCounter("vessel_vm_net_tx_dropped_total", "Malformed frames from the guest dropped.", nic);
        Registry.AddBeforeCollectCallback(async _ => await UpdateAsync());
    }

    public CollectorRegistry Registry { get; }

    private async Task UpdateAsync()
    {
        var host = await _collector.HostAsync();
        _hostCores.Set(host.Cores);
        _hostMemory.Set(host.MemoryBytes);
        _hostAllocatedCpus.Set(host.AllocatedCpus);
        _hostAllocatedMemory.Set(host.AllocatedMemoryBytes);
        _hostUsedMemory.Set(host.UsedMemoryBytes);
        _hostUsedCpu.Set(host.UsedCpuPercent);
        _hostRunning.Set(host.RunningVms);

        var all = await _collector.ListAsync();
        var vms = all.Select(s => new[] { s.Name }).ToList();
        var disks = all.SelectMany(s => s.Disks.Select(d => new[] { s.Name, d.Device })).ToList();
        var nics = all.SelectMany(s => s.Nics.Select(n => new[] { s.Name, n.Device })).ToList();
        foreach (var g in new[] { _vmUp, _vmCpus, _vmMemory, _vmRss, _vmCpuPercent, _vmInstructionRate })
        {
            Prune(g, vms);
        }

        foreach (var c in new[] { _vmCpuSeconds, _vmInstructions })
        {
            Prune(c, vms);
        }

        foreach (var c in new[] { _diskReadBytes, _diskReadOps, _diskWriteBytes, _diskWriteOps, _diskThrottled })
        {
            Prune(c, disks);
        }

        foreach (var c in new[] { _nicRxBytes, _nicRxPackets, _nicTxBytes, _nicTxPackets, _nicRxDropped, _nicTxDropped })
        {
            Prune(c, nics);
        }

        foreach (var s in all)
        {
            _vmUp.WithLabels(s.Name).Set(s.Pid is null ? 0 : 1);
            _vmCpus.WithLabels(s.Name).Set(s.Cpus);
            _vmMemory.WithLabels(s.Name).Set(s.MemoryBytes);
            _vmRss.WithLabels(s.Name).Set(s.RssBytes);
            _vmCpuPercent.WithLabels(s.Name).Set(s.CpuPercent);
            _vmInstructionRate.WithLabels(s.Name).Set(s.InstructionsPerSecond);
            SetCounter(_vmCpuSeconds, s.CpuSeconds, s.Name);
            SetCounter(_vmInstructions, s.InstructionsRetired, s.Name);
            foreach (var d in s.Disks)
            {
                SetCounter(_diskReadBytes, d.ReadBytes, s.Name, d.Device);
                SetCounter(_diskReadOps, d.ReadOps, s.Name, d.Device);
                SetCounter(_diskWriteBytes, d.WriteBytes, s.Name, d.Device);
                SetCounter(_diskWriteOps, d.WriteOps, s.Name, d.Device);
                SetCounter(_diskThrottled, d.Throttled, s.Name, d.Device);
            }

            foreach (var n in s.Nics)
            {
                SetCounter(_nicRxBytes, n.RxBytes, s.Name, n.Device);
                SetCounter(_nicRxPackets, n.RxPackets, s.Name, n.Device);
                SetCounter(_nicTxBytes, n.TxBytes, s.Name, n.Device);
                SetCounter(_nicTxPackets, n.TxPackets, s.Name, n.Device);
                SetCounter(_nicRxDropped, n.RxDropped, s.Name, n.Device);
                SetCounter(_nicTxDropped, n.TxDropped, s.Name, n.Device);
            }
        }
    }

    /// <summary>A counter follows the worker's value; when that went down (a new worker), the series starts again.</summary>
    private static void SetCounter(Counter counter, double value, params string[] labels)
    {
        var child = counter.WithLabels(labels);
        if (value < child.Value)
        {
            counter.RemoveLabelled(labels);
            child = counter.WithLabels(labels);
        }

        child.IncTo(value);
    }

    private static void Prune<TChild>(Collector<TChild> collector, List<string[]> keep)
        where TChild : ChildBase
    {
        foreach (string[] labels in collector.GetAllLabelValues().ToList())
        {
            if (!keep.Any(k => k.SequenceEqual(labels)))
            {
                collector.RemoveLabelled(labels);
            }
        }
    }
}
