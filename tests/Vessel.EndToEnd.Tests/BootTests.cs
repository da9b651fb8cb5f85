using System.Globalization;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Boots Debian's riscv64 kernel with the guest kit's initramfs through the real CLI in scripted mode
/// (stdin and stdout are pipes), as `printf 'uname -a\npoweroff -f\n' | ./vessel run` does.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class BootTests
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);
    private const string Prompt = "~ # ";

    [GuestKitFact]
    public async Task BootsToAShellRunsUnameAndPowersOff()
    {
        await using var vessel = VesselProcess.Start("run");
        await vessel.SendAsync("uname -a\npoweroff -f\n");
        await vessel.WaitForAsync("Linux vessel 6.", Boot);
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("riscv64", vessel.Output);
    }

    [GuestKitFact]
    public async Task CpuInfoListsEveryHartWithItsIsa()
    {
        await using var vessel = VesselProcess.Start("run", "--cpus", "2");
        await vessel.SendAsync("cat /proc/cpuinfo; nproc; poweroff -f\n");
        int at = await vessel.WaitForAsync("processor\t: 1", Boot);
        Assert.Contains("rv64imafdc", vessel.Output);
        Assert.Contains("mmu\t\t: sv48", vessel.Output);
        await vessel.WaitForAsync("\n2\r\n", TimeSpan.FromMinutes(1), at);
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [GuestKitFact]
    public async Task TwoHartsRunAParallelWorkload()
    {
        // Two busy loops in the background; /proc/stat must show both CPUs accumulating user time.
        await using var vessel = VesselProcess.Start("run", "--cpus", "2");
        await vessel.SendAsync(
            "(i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done) & (i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done) & wait\n" +
            "grep '^cpu[01] ' /proc/stat; echo WORK-$((40+2))-DONE; poweroff -f\n");
        int at = await vessel.WaitForAsync("WORK-42-DONE", TimeSpan.FromMinutes(6)); // not the echo of the typed line
        string output = vessel.Output[..at];
        foreach (string cpu in new[] { "cpu0 ", "cpu1 " })
        {
            int line = output.LastIndexOf(cpu, StringComparison.Ordinal);
            Assert.True(line >= 0, $"no {cpu} line in /proc/stat");
            string[] fields = output[line..].Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long user = long.Parse(fields[1], CultureInfo.InvariantCulture);
            Assert.True(user > 50, $"{cpu.Trim()} accumulated only {user} ticks of user time");
        }

        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [GuestKitFact]
    public async Task GuestClockFollowsTheHost()
    {
        await using var vessel = VesselProcess.Start("run");
        await vessel.SendAsync("echo DATE=$(date +%s)=; poweroff -f\n");
        int end = await vessel.WaitForAsync("=\r\n", Boot, 0);
        string output = vessel.Output;
        int start = output.LastIndexOf("DATE=", end, StringComparison.Ordinal) + 5;
        long guest = long.Parse(output[start..(end - 3)], CultureInfo.InvariantCulture);
        long host = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(guest, host - 10, host + 2);
        Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [GuestKitFact]
    public async Task RebootWithNoRebootExits()
    {
        await using var vessel = VesselProcess.Start("run", "--no-reboot");
        await vessel.SendAsync("reboot -f\n");
        Assert.Equal(0, await vessel.WaitForExitAsync(Boot));
        Assert.Contains(Prompt, vessel.Output);
    }

    [GuestKitFact]
    public async Task RebootBootsAgain()
    {
        await using var vessel = VesselProcess.Start("run", "--append", "console=ttyS0 vessel.init=\"reboot -f\"");
        int first = await vessel.WaitForAsync("Linux version", Boot);
        await vessel.WaitForAsync("Linux version", Boot, first);
    }

    [GuestKitFact]
    public async Task KernelPanicEndsTheRunWithAnError()
    {
        // No initrd and no root device: the kernel panics trying to mount root.
        await using var vessel = VesselProcess.Start("run", "--initrd", "/dev/null", "--append", "console=ttyS0 root=/dev/vda");
        int code = await vessel.WaitForExitAsync(Boot);
        Assert.NotEqual(0, code);
        Assert.Contains("Kernel panic", vessel.Output);
        Assert.Contains("panicked", vessel.Output);
    }

    [GuestKitFact]
    public async Task BrokenFirmwareEndsTheRunWithAnError()
    {
        string firmware = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(firmware, new byte[4096]); // all zeros: an illegal instruction, and no trap vector
            await using var vessel = VesselProcess.Start("run", "--bios", firmware);
            Assert.Equal(1, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("cannot continue", vessel.Output);
        }
        finally
        {
            File.Delete(firmware);
        }
    }

    [Fact]
    public async Task BadFlagsGiveAOneLineErrorAndStatus2()
    {
        await using var vessel = VesselProcess.Start("run", "--memory", "lots");
        Assert.Equal(2, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--memory", vessel.Output);
    }

    [Fact]
    public async Task MissingKernelFileIsReported()
    {
        await using var vessel = VesselProcess.Start("run", "--bios", "/nonexistent/fw.bin", "--kernel", "/nonexistent/Image");
        Assert.Equal(2, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("no such file", vessel.Output);
    }
}
