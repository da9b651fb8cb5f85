using System.Diagnostics;

namespace Vessel.Hosting;

/// <summary>
/// Gathers <see cref="VmStats"/>: asks each running worker for its counters (control socket <c>stats</c>) and reads
/// its CPU time and RSS from procfs, and turns successive samples into rates. Also fills in what running VMs really
/// use in <see cref="HostInfo"/>. Thread-safe; the API, <c>vessel vm stats --watch</c> and /metrics share one.
/// </summary>
public sealed class VmStatisticsCollector(VmSupervisor supervisor)
{
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(500);
    private readonly Dictionary<string, Samples> _samples = [];
    private readonly Lock _lock = new();

    public async Task<VmStats> GetAsync(string name)
    {
        var info = supervisor.Get(name);
        return await CollectAsync(info);
    }

    public async Task<IReadOnlyList<VmStats>> ListAsync()
    {
        var result = new List<VmStats>();
        foreach (var info in supervisor.List())
        {
            result.Add(await CollectAsync(info));
        }

        return result;
    }

    /// <summary>Capacity and allocation from the supervisor, plus the summed RSS and CPU of running workers.</summary>
    public async Task<HostInfo> HostAsync()
    {
        var host = supervisor.HostInfo();
        ulong rss = 0;
        double cpu = 0;
        foreach (var stats in await ListAsync())
        {
            rss += stats.RssBytes;
            cpu += stats.CpuPercent;
        }

        return host with { UsedMemoryBytes = rss, UsedCpuPercent = Math.Round(cpu, 1) };
    }

    private async Task<VmStats> CollectAsync(VmInfo info)
    {
        var d = info.Definition;
        var idle = new VmStats(d.Name, info.State, info.Pid, d.Cpus, d.MemoryBytes, 0, 0, 0, 0, 0, 0, [], []);
        if (info.Pid is not { } pid || info.State is not ("running" or "starting" or "stopping"))
        {
            lock (_lock)
            {
                _samples.Remove(d.Name);
            }

            return idle;
        }

        var usage = ProcessUsage.Read(pid);
        var worker = await WorkerControlClient.StatisticsAsync(new VmPaths(supervisor.StateDirectory, d.Name).ControlSocket, ControlTimeout);
        if (usage is null)
        {
            return idle;
        }

        var sample = new Sample(Stopwatch.GetTimestamp(), usage.Value.CpuTime.TotalSeconds, worker?.InstructionsRetired ?? 0, worker?.Pid ?? pid);
        double uptime = worker?.UptimeSeconds ?? 0;
        double cpuRate, instructionRate;
        lock (_lock)
        {
            _samples.TryGetValue(d.Name, out var samples);
            if (samples is not null && samples.Latest.Pid != sample.Pid)
            {
                samples = null; // a new worker: its counters started again from zero
            }

            samples ??= new Samples(null, sample);
            if (Stopwatch.GetElapsedTime(samples.Latest.Timestamp, sample.Timestamp) >= MinimumInterval)
            {
                samples = new Samples(samples.Latest, sample);
            }

            _samples[d.Name] = samples;
            if (samples.Previous is { } previous)
            {
                double seconds = Stopwatch.GetElapsedTime(previous.Timestamp, sample.Timestamp).TotalSeconds;
                cpuRate = Math.Max(0, sample.CpuSeconds - previous.CpuSeconds) / seconds;
                instructionRate = sample.Instructions >= previous.Instructions ? (sample.Instructions - previous.Instructions) / seconds : 0;
            }
            else
            {
                // First look at this worker: averages since it started.
                cpuRate = uptime > 0 ? sample.CpuSeconds / uptime : 0;
                instructionRate = uptime > 0 ? sample.Instructions / uptime : 0;
            }
        }

        return new VmStats(
            d.Name, info.State, pid, d.Cpus, d.MemoryBytes, Math.Round(uptime, 3), sample.Instructions, Math.Round(instructionRate),
            Math.Round(sample.CpuSeconds, 3), Math.Round(cpuRate * 100, 1), usage.Value.RssBytes, worker?.Disks ?? [], worker?.Nics ?? [], worker?.Balloon);
    }

    private sealed record Sample(long Timestamp, double CpuSeconds, ulong Instructions, int Pid);

    private sealed record Samples(Sample? Previous, Sample Latest);
}
