using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

/// <summary>Parsing what bench/guest/cpu-kernels and net-bench print.</summary>
public sealed class GuestProgramOutputTests
{
    private const string CpuOutput = """
        [    5.1] random: crng init done
        RESULT integer 8.201 Mops/s ea4f48265b22b04a
        RESULT memcpy 359.000 MB/s 0000000000001868
        RESULT branchy 0.600 Mkeys/s 00000006017722fa
        RESULT float 9.990 MFLOP/s c0351e988c6d9e99
        vessel: vessel.init exited with status 0
        """;

    [Fact]
    public void CpuKernelResultsComeInKernelOrderWithUnitsAndChecksums()
    {
        var results = CpuKernelResults.Parse(CpuOutput)!;
        Assert.Equal(["integer", "memcpy", "branchy", "float"], results.Select(r => r.Rate.Metric));
        Assert.Equal(359.0, results[1].Rate.Value);
        Assert.Equal("MB/s", results[1].Rate.Unit);
        Assert.True(results[1].Rate.HigherIsBetter);
        Assert.Equal("c0351e988c6d9e99", results[3].Checksum);
    }

    [Fact]
    public void CpuKernelResultsAreNullWhenAKernelIsMissing()
    {
        Assert.Null(CpuKernelResults.Parse(CpuOutput.Replace("RESULT float", "RESULT flot", StringComparison.Ordinal)));
        Assert.Null(CpuKernelResults.Parse(""));
    }

    [Fact]
    public void VmToVmRateIsTakenOnlyWhenEveryByteArrived()
    {
        const string line = "NET-BENCH received 8388608 bytes in 2.500 s: 3.36 MB/s\n";
        var rate = Assert.Single(VmToVmNetworkCase.Measure(line, 8L << 20)!);
        Assert.Equal(3.36, rate.Value);
        Assert.Equal("MB/s", rate.Unit);
        Assert.Null(VmToVmNetworkCase.Measure(line, 16L << 20));
        Assert.Null(VmToVmNetworkCase.Measure("NET-BENCH timed out\n", 8L << 20));
    }

    [Fact]
    public void QemuGetsASocketLinkWithTheVmsMacForALan()
    {
        var args = QemuGuestRunner.Arguments(new GuestWorkload
        {
            Firmware = "fw",
            Kernel = "k",
            Initrd = "i",
            CommandLine = "c",
            Lan = new LanLink("lan1", 4001, 4002, "52:54:00:be:0c:01"),
        });
        Assert.Contains("dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=4001,remote.type=inet,remote.host=127.0.0.1,remote.port=4002", args);
        Assert.Contains("virtio-net-device,netdev=net0,mac=52:54:00:be:0c:01", args);
        Assert.DoesNotContain("none", args);
    }

    [Fact]
    public void VesselRunArgumentsCarryTheWorkload()
    {
        var args = GuestProcess.VesselArguments(new GuestWorkload
        {
            Firmware = "fw",
            Kernel = "k",
            Initrd = "i",
            CommandLine = "console=ttyS0 quiet",
            MemorySize = 128UL << 20,
        });
        Assert.Equal(["run", "--cpus", "1", "--memory", "128M", "--bios", "fw", "--kernel", "k", "--initrd", "i", "--append", "console=ttyS0 quiet", "--net", "none", "--no-reboot"], args);
        var lan = GuestProcess.VesselArguments(new GuestWorkload
        {
            Firmware = "fw",
            Kernel = "k",
            Initrd = "i",
            CommandLine = "c",
            Lan = new LanLink("lan1", 1, 2, "52:54:00:be:0c:02"),
        });
        Assert.Equal("switch:lan1,mac=52:54:00:be:0c:02", lan.SkipWhile(a => a != "--net").ElementAt(1));
    }
}
