using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

public sealed class HostMemoryTests
{
    [Fact]
    public void ResidentSetComesFromVmRssInKilobytes()
    {
        const string status = "Name:\tvessel\nVmPeak:\t  900000 kB\nVmRSS:\t  123456 kB\nThreads:\t12\n";
        Assert.Equal(123456L * 1024, ProcessMemory.ResidentBytes(status));
    }

    [Fact]
    public void MalformedOrMissingFieldsAreClearErrors()
    {
        var missing = Assert.Throws<FormatException>(() => ProcessMemory.ResidentBytes("Name:\tx\n"));
        Assert.Contains("VmRSS", missing.Message);
        Assert.Throws<FormatException>(() => ProcessMemory.Kilobytes("VmRSS:\t12 MB\n", "VmRSS:"));
        Assert.Throws<FormatException>(() => ProcessMemory.Kilobytes("VmRSS:\t-5 kB\n", "VmRSS:"));
    }

    [Fact]
    public void HostAvailableMemoryIsReadFromThisMachine()
    {
        Assert.True(ProcessMemory.HostAvailableBytes() > 0);
    }

    private static readonly DensityLimits Limits = new(MaxVms: 5, TimeLimit: TimeSpan.FromMinutes(10), ReserveBytes: 3L << 30, PerVmBytes: 384L << 20);

    [Fact]
    public void DensityGoesOnWhileUnderEveryLimit()
    {
        Assert.Null(Limits.StopReason(4, TimeSpan.FromMinutes(9), 8L << 30));
    }

    [Fact]
    public void DensityStopsAtTheCountAndTheTimeLimit()
    {
        Assert.Contains("--max-vms 5", Limits.StopReason(5, TimeSpan.Zero, 8L << 30));
        Assert.Contains("10 min", Limits.StopReason(1, TimeSpan.FromMinutes(10), 8L << 30));
    }

    [Fact]
    public void DensityStopsBeforeTheNextVmWouldEatIntoTheReserve()
    {
        Assert.Null(Limits.StopReason(1, TimeSpan.Zero, (3L << 30) + (384L << 20)));
        Assert.Contains("memory low", Limits.StopReason(1, TimeSpan.Zero, (3L << 30) + (383L << 20)));
    }

    [Fact]
    public void DensityKeepsTwoGibFreeEvenWithASmallerReserve()
    {
        var careless = Limits with { ReserveBytes = 0 };
        Assert.Contains("memory low", careless.StopReason(0, TimeSpan.Zero, (2L << 30) + (100L << 20)));
    }
}
