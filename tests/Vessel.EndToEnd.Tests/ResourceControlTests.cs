using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vessel.Hosting;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Issue 6's resource controls with real CPU-bound guests (a busy loop through the kit's <c>vessel.init=</c>): a CPU
/// cap, weights between two VMs on one core, stats from the worker and the OS, and a rate-limited disk. Bounds are
/// tolerant: these test behaviour on a shared, busy machine, not speed.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class ResourceControlTests : IDisposable
{
    private const string BusyLoop = "console=ttyS0 vessel.init='while :; do :; done'";
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _id = Guid.NewGuid().ToString("N")[..6];
    private readonly List<int> _workers = [];

    [GuestKitFact]
    public async Task CappedVmUsesAboutAQuarterOfACoreAndReportsItsNumbers()
    {
        string disk = Path.Combine(Path.GetTempPath(), $"vessel-e2e-{_id}.raw");
        File.WriteAllBytes(disk, new byte[8 << 20]);
        await using var serve = await StartServeAsync();
        try
        {
            string vm = "cap" + _id;
            await Cli("vm", "create", vm, "--memory", "256M", "--cpu-cap", "25", "--append", BusyLoop, "--disk", disk);
            await Cli("vm", "start", vm);
            int pid = await WaitRunningAsync(vm);
            AssertHostMemoryLimit(pid, 256UL << 20);
            await Task.Delay(TimeSpan.FromSeconds(5)); // past the worker's start-up (JIT) into the steady busy guest

            var first = await CliJson("vm", "stats", vm);
            await Task.Delay(TimeSpan.FromSeconds(12));
            var second = await CliJson("vm", "stats", vm);
            double share = CpuShare(first, second);
            Assert.InRange(share, 0.15, 0.35);

            // The numbers a user sees: instructions moving, real RSS well under the guest's RAM, the disk's reads.
            Assert.True(second.GetProperty("instructionsRetired").GetUInt64() > first.GetProperty("instructionsRetired").GetUInt64());
            Assert.True(second.GetProperty("instructionsPerSecond").GetDouble() > 0);
            ulong rss = second.GetProperty("rssBytes").GetUInt64();
            Assert.InRange(rss, 16UL << 20, 1UL << 30);
            Assert.Equal("vda", Assert.Single(second.GetProperty("disks").EnumerateArray()).GetProperty("device").GetString());

            // At a quarter of a core the kernel reaches the disk late; its partition-table reads show up in the counters.
            var deadline = DateTime.UtcNow + Boot;
            while ((await CliJson("vm", "stats", vm)).GetProperty("disks")[0].GetProperty("readOps").GetUInt64() == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "no disk reads counted");
                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            var host = await CliJson("host");
            Assert.True(host.GetProperty("usedMemoryBytes").GetUInt64() >= rss / 2);
            Assert.Equal(1, host.GetProperty("allocatedCpus").GetInt32());
            await Cli("vm", "kill", vm);
        }
        finally
        {
            File.Delete(disk);
        }
    }

    [GuestKitFact]
    public async Task TwoBusyVmsWithWeightsTwoToOneOnOneCoreGetCpuCloseToTwoToOne()
    {
        await using var serve = await StartServeAsync();
        string heavy = "heavy" + _id, light = "light" + _id;
        await Cli("vm", "create", heavy, "--memory", "128M", "--cpu-weight", "200", "--append", BusyLoop);
        await Cli("vm", "create", light, "--memory", "128M", "--cpu-weight", "100", "--append", BusyLoop);
        await Cli("vm", "start", heavy);
        await Cli("vm", "start", light);
        int heavyPid = await WaitRunningAsync(heavy);
        int lightPid = await WaitRunningAsync(light);
        await Task.Delay(TimeSpan.FromSeconds(5));
        Pin(heavyPid);
        Pin(lightPid);
        await Task.Delay(TimeSpan.FromSeconds(2));

        var heavy1 = await CliJson("vm", "stats", heavy);
        var light1 = await CliJson("vm", "stats", light);
        await Task.Delay(TimeSpan.FromSeconds(15));
        var heavy2 = await CliJson("vm", "stats", heavy);
        var light2 = await CliJson("vm", "stats", light);
        double heavyCpu = Cpu(heavy2) - Cpu(heavy1), lightCpu = Cpu(light2) - Cpu(light1);
        Assert.True(lightCpu > 0.5, $"the light VM got {lightCpu:F2} s of CPU");
        Assert.InRange(heavyCpu / lightCpu, 1.4, 2.8);
        await Cli("vm", "kill", heavy);
        await Cli("vm", "kill", light);
    }

    [GuestKitFact]
    public async Task RateLimitedDiskIsSlowerThanAnUnlimitedOne()
    {
        string fast = Path.Combine(Path.GetTempPath(), $"vessel-e2e-{_id}-fast.raw"), slow = fast.Replace("fast", "slow", StringComparison.Ordinal);
        File.WriteAllBytes(fast, new byte[8 << 20]);
        File.WriteAllBytes(slow, new byte[8 << 20]);
        try
        {
            // vda unlimited, vdb at 1 MiB/s: read 4 MiB from each, timed by the guest's own clock.
            await using var vessel = VesselProcess.Start("run", "--net", "none", "--disk", fast, "--disk", $"{slow},bps=1M");
            await vessel.SendAsync(
                "a=$(cut -d' ' -f1 /proc/uptime); dd if=/dev/vda of=/dev/null bs=64k count=64; b=$(cut -d' ' -f1 /proc/uptime); " +
                "dd if=/dev/vdb of=/dev/null bs=64k count=64; c=$(cut -d' ' -f1 /proc/uptime); echo TIMES $a $b $c DONE-$((1+1)); poweroff -f\n");
            await vessel.WaitForAsync("DONE-2", Boot); // not in the echoed command line, only in the guest's answer
            string line = vessel.Output.Split('\n').Last(l => l.Contains("DONE-2", StringComparison.Ordinal));
            double[] t = [.. line[(line.IndexOf("TIMES ", StringComparison.Ordinal) + 6)..line.IndexOf(" DONE-2", StringComparison.Ordinal)]
                .Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture))];
            double unlimited = t[1] - t[0], limited = t[2] - t[1];
            Assert.Equal(2, vessel.Output.Split("64+0 records out").Length - 1); // both reads completed, nothing failed
            Assert.True(limited >= 3.0, $"4 MiB at 1 MiB/s took {limited:F2} s");
            Assert.True(limited >= 2 * unlimited, $"limited {limited:F2} s vs unlimited {unlimited:F2} s");
            Assert.Equal(0, await vessel.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }
        finally
        {
            File.Delete(fast);
            File.Delete(slow);
        }
    }

    public void Dispose()
    {
        // Workers run in their own sessions and outlive the supervisor: a failed test must not leave busy loops behind.
        foreach (int pid in _workers)
        {
            try
            {
                using var worker = Process.GetProcessById(pid);
                worker.Kill();
            }
            catch (ArgumentException)
            {
            }
        }

        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    /// <summary>
    /// The worker sits in a memory cgroup of its own, limited to guest RAM plus the fixed overhead, wherever the host
    /// has a memory controller (proc(5) /proc/PID/cgroup names the group; v1 lists the controller, v2 has one line).
    /// </summary>
    private static void AssertHostMemoryLimit(int pid, ulong guestMemory)
    {
        string[] lines = File.ReadAllLines($"/proc/{pid}/cgroup");
        string expected = MemoryControlGroup.LimitFor(guestMemory).ToString(CultureInfo.InvariantCulture);
        if (File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        {
            string path = lines.Select(l => l.Split(':', 3)).First(f => f[1].Split(',').Contains("memory"))[2];
            Assert.Contains("/vessel/", path, StringComparison.Ordinal);
            Assert.Equal(expected, File.ReadAllText($"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").Trim());
        }
        else if (File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Split(' ', '\n').Contains("memory"))
        {
            string path = lines.First(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];
            Assert.Equal(expected, File.ReadAllText($"/sys/fs/cgroup{path}/memory.max").Trim());
        }
    }

    private static double Cpu(JsonElement stats) => stats.GetProperty("cpuSeconds").GetDouble();

    /// <summary>CPU seconds per second of worker uptime between two samples (both from the same stats reply).</summary>
    private static double CpuShare(JsonElement first, JsonElement second) =>
        (Cpu(second) - Cpu(first)) / (second.GetProperty("uptimeSeconds").GetDouble() - first.GetProperty("uptimeSeconds").GetDouble());

    /// <summary>Every thread of the worker onto CPU 0, so the two VMs compete for one core.</summary>
    private static void Pin(int pid)
    {
        using var taskset = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "0x1", pid.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
        taskset.WaitForExit();
        Assert.Equal(0, taskset.ExitCode);
    }

    private async Task<VesselProcess> StartServeAsync()
    {
        var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        return serve;
    }

    private async Task<int> WaitRunningAsync(string vm)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var info = await CliJson("vm", "show", vm);
            if (info.GetProperty("state").GetString() == "running")
            {
                int pid = info.GetProperty("pid").GetInt32();
                _workers.Add(pid);
                return pid;
            }

            Assert.True(DateTime.UtcNow < deadline, $"VM {vm} is not running: {info.GetRawText()}");
            await Task.Delay(500);
        }
    }

    private async Task<string> Cli(params string[] arguments)
    {
        await using var cli = VesselProcess.Start([.. arguments, "--state-dir", _state]);
        int status = await cli.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(status == 0, $"vessel {string.Join(' ', arguments)} exited {status}:\n{cli.Output}");
        return cli.Output;
    }

    private async Task<JsonElement> CliJson(params string[] arguments)
    {
        string output = await Cli([.. arguments, "--json"]);
        return JsonDocument.Parse(output[output.IndexOf('{')..]).RootElement.Clone();
    }
}
