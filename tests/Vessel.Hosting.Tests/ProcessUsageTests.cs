using System.Diagnostics;
using Vessel.Hosting;
using Vessel.Machine.Abstractions;

namespace Vessel.Hosting.Tests;

/// <summary>Real RSS and CPU from procfs; and guest RAM is committed lazily, so an idle big VM costs little RSS.</summary>
public sealed class ProcessUsageTests
{
    [Fact]
    public void ReadsThisProcessCpuTimeGrowingWhileBusy()
    {
        var before = ProcessUsage.Read(Environment.ProcessId)!.Value;
        using var self = Process.GetCurrentProcess();
        var start = self.TotalProcessorTime;

        // Spin until the runtime's own account says 300 ms of CPU were used (wall time varies on a busy host).
        while (true)
        {
            self.Refresh();
            if (self.TotalProcessorTime - start >= TimeSpan.FromMilliseconds(300))
            {
                break;
            }
        }

        var after = ProcessUsage.Read(Environment.ProcessId)!.Value;
        Assert.True(after.RssBytes > 1 << 20);
        Assert.InRange((after.CpuTime - before.CpuTime).TotalMilliseconds, 250, 5000);
    }

    [Fact]
    public void GoneProcessIsNull() => Assert.Null(ProcessUsage.Read(int.MaxValue));

    [Fact]
    public void GuestRamIsCommittedOnlyWhenTouched()
    {
        ulong before = ProcessUsage.Read(Environment.ProcessId)!.Value.RssBytes;
        using var ram = new GuestMemory(0x8000_0000, 1UL << 30);
        ulong idle = ProcessUsage.Read(Environment.ProcessId)!.Value.RssBytes;
        Assert.True(idle < before + (64UL << 20), $"an untouched 1 GiB guest RAM added {DataSize.Format(idle - Math.Min(idle, before))} of RSS");

        // Touching 64 MiB of it commits about that much.
        for (ulong page = 0; page < (64UL << 20); page += 4096)
        {
            ram.GetSpan(0x8000_0000 + page, 1)[0] = 1;
        }

        ulong touched = ProcessUsage.Read(Environment.ProcessId)!.Value.RssBytes;
        Assert.True(touched >= idle + (48UL << 20), $"touching 64 MiB added only {DataSize.Format(touched - Math.Min(touched, idle))}");
    }
}
