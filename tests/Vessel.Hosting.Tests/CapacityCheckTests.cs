using Vessel.Hosting;

namespace Vessel.Hosting.Tests;

/// <summary>Admission control: a VM starts only if its vCPUs and memory fit, unless overcommit is allowed.</summary>
public sealed class CapacityCheckTests
{
    private static readonly HostInfo Host = new(Cores: 4, MemoryBytes: 8UL << 30, AllocatedCpus: 3, AllocatedMemoryBytes: 6UL << 30, RunningVms: 2, DefinedVms: 3);

    private static VmDefinition Vm(int cpus, ulong memory, bool overcommit = false) =>
        new() { Name = "web", Cpus = cpus, MemoryBytes = memory, AllowOvercommit = overcommit };

    [Fact]
    public void FittingVmStarts() => Assert.Null(CapacityCheck.Refusal(Host, Vm(1, 2UL << 30), hostAllowsOvercommit: false));

    [Fact]
    public void TooManyVcpusIsRefusedWithTheNumbers()
    {
        string? refusal = CapacityCheck.Refusal(Host, Vm(2, 1UL << 30), false);
        Assert.NotNull(refusal);
        Assert.Contains("2 vCPU but only 1 of the host's 4 cores are unallocated", refusal);
        Assert.Contains("--allow-overcommit", refusal);
        Assert.DoesNotContain("memory", refusal);
    }

    [Fact]
    public void TooMuchMemoryIsRefused()
    {
        string? refusal = CapacityCheck.Refusal(Host, Vm(1, 3UL << 30), false);
        Assert.NotNull(refusal);
        Assert.Contains("3G of memory but only 2G", refusal);
    }

    [Fact]
    public void OvercommitOnTheVmOrTheHostLetsItStart()
    {
        Assert.Null(CapacityCheck.Refusal(Host, Vm(4, 7UL << 30, overcommit: true), false));
        Assert.Null(CapacityCheck.Refusal(Host, Vm(4, 7UL << 30), hostAllowsOvercommit: true));
    }

    [Fact]
    public void AllocationBeyondCapacityLeavesNothingFree()
    {
        var overcommitted = Host with { AllocatedCpus = 9, AllocatedMemoryBytes = 20UL << 30 };
        string? refusal = CapacityCheck.Refusal(overcommitted, Vm(1, 64UL << 20), false);
        Assert.NotNull(refusal);
        Assert.Contains("only 0 of the host's 4 cores", refusal);
    }
}
