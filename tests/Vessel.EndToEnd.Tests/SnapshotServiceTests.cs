using System.Diagnostics;
using Xunit.Abstractions;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Issue 6's snapshots and rollback through the real CLI, as in the README walkthrough: a live snapshot of a running
/// 512 MiB VM under <c>vessel serve</c>; after a revert a deleted file is back, a file written to a qcow2 data disk
/// after the snapshot is gone, and a background process that ran at the snapshot runs again. Reverts repeat, work
/// after a supervisor restart, and a deleted snapshot leaves the list.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class SnapshotServiceTests(ITestOutputHelper output) : IDisposable
{
    private const string BootTimeout = "240";
    // mv makes each tick atomic: a reader never sees the file empty between the shell truncating it and date writing.
    private const string TickerScript = "while :; do date +%s > /tmp/tick.new; mv /tmp/tick.new /tmp/tick; sleep 1; done";
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-snap-" + Guid.NewGuid().ToString("N")[..12]);

    [GuestKitFact]
    public async Task LiveSnapshotRevertsFilesDisksAndProcessesRepeatedlyAndAcrossSupervisorRestarts()
    {
        Directory.CreateDirectory(_state);
        string disk = Path.Combine(_state, "data.qcow2");
        Vessel.Storage.Qcow2.Qcow2Image.Create(disk, 32UL << 20);
        var serve = VesselProcess.Start("serve", "--state-dir", _state);
        try
        {
            await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
            await Cli("vm", "create", "demo", "--memory", "512M", "--disk", disk);
            await Cli("vm", "start", "demo");

            var hello = await Exec("--timeout", BootTimeout, "--", "sh", "-c", "echo hello > /root/a; cat /root/a");
            Assert.True(hello.Status == 0, hello.Stderr);
            Assert.Equal("hello\n", hello.Stdout);
            await ExecOk("mke2fs -q /dev/vda && mkdir -p /mnt/d && mount /dev/vda /mnt/d && echo before > /mnt/d/kept && sync");

            // The process must be running at the snapshot's instant to be running again after a revert.
            string pid = (await ExecOk($"sh -c '{TickerScript}' </dev/null >/dev/null 2>&1 & echo $!")).Trim();
            Assert.Matches("^[0-9]+$", pid);
            await AssertTickerRuns(pid);

            var create = Stopwatch.StartNew();
            await Cli("vm", "snapshot", "create", "demo", "s1", "--description", "hello in /root/a");
            create.Stop();

            await ExecOk("rm /root/a && echo after > /mnt/d/after && sync");
            await ExecOk($"kill {pid}; while [ -d /proc/{pid} ]; do sleep 0.1; done");
            Assert.Equal(1, (await Exec("--", "cat", "/root/a")).Status);

            var firstRevert = await Revert(pid);
            await ExecOk("rm /root/a && echo after > /mnt/d/after && sync");
            var secondRevert = await Revert(pid);

            // The supervisor goes away and comes back; the snapshot and the revert still work.
            await serve.KillAsync();
            await serve.DisposeAsync();
            serve = VesselProcess.Start("serve", "--state-dir", _state);
            await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
            await ExecOk("rm /root/a");
            var thirdRevert = await Revert(pid);

            var list = await VesselCli.RunAsync("vm", "snapshot", "list", "demo", "--state-dir", _state);
            Assert.Equal(0, list.Status);
            Assert.Contains("s1 *", list.Stdout, StringComparison.Ordinal);
            Assert.Contains("hello in /root/a", list.Stdout, StringComparison.Ordinal);
            await Cli("vm", "snapshot", "delete", "demo", "s1");
            list = await VesselCli.RunAsync("vm", "snapshot", "list", "demo", "--state-dir", _state);
            Assert.Equal("VM demo has no snapshots\n", list.Stdout);
            var gone = await VesselCli.RunAsync("vm", "snapshot", "revert", "demo", "s1", "--state-dir", _state);
            Assert.Equal(1, gone.Status);
            Assert.Contains("has no snapshot named 's1'", gone.Stderr, StringComparison.Ordinal);
            await Cli("vm", "stop", "demo");

            output.WriteLine($"512 MiB VM: snapshot create {create.Elapsed.TotalSeconds:F2} s; revert {firstRevert.TotalSeconds:F2} s, {secondRevert.TotalSeconds:F2} s, after supervisor restart {thirdRevert.TotalSeconds:F2} s (CLI round trips, guest-visible state checked separately)");
        }
        finally
        {
            await serve.DisposeAsync();
        }
    }

    [GuestKitFact]
    public async Task LiveSnapshotOfAVmWithARawDiskCopiesTheDiskRevertPutsItBackAndALinkedCloneBootsFromIt()
    {
        Directory.CreateDirectory(_state);
        string disk = Path.Combine(_state, "data.raw");
        using (var file = File.Create(disk))
        {
            file.SetLength(32L << 20);
        }

        var serve = VesselProcess.Start("serve", "--state-dir", _state);
        try
        {
            await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
            await Cli("vm", "create", "demo", "--memory", "256M", "--disk", disk);
            await Cli("vm", "start", "demo");
            var ready = await Exec("--timeout", BootTimeout, "--", "true");
            Assert.True(ready.Status == 0, ready.Stderr);
            await ExecOk("mke2fs -q /dev/vda && mkdir -p /mnt/d && mount /dev/vda /mnt/d && echo before > /mnt/d/kept && sync");

            await Cli("vm", "snapshot", "create", "demo", "s1");
            string copy = Path.Combine(_state, "vms", "demo", "snapshots", "s1.disks", "0.img");
            Assert.True(File.Exists(copy), "the raw disk was not copied into the snapshot");

            await ExecOk("rm /mnt/d/kept && echo after > /mnt/d/after && sync");
            await Cli("vm", "snapshot", "revert", "demo", "s1");
            Assert.Equal("before\n", await ExecOk("cat /mnt/d/kept"));
            Assert.Equal(1, (await Exec("--", "test", "-e", "/mnt/d/after")).Status);

            // A linked clone of s1 boots from the disk as it was then, while the source's disk has moved on.
            await ExecOk("echo later > /mnt/d/later && sync");
            await Cli("vm", "stop", "demo");
            await Cli("vm", "clone", "demo", "demo2", "--linked", "--snapshot", "s1");
            await Cli("vm", "start", "demo2");
            var mounted = await VesselCli.RunAsync("vm", "exec", "demo2", "--state-dir", _state, "--timeout", BootTimeout, "--", "sh", "-c",
                "mkdir -p /mnt/d && mount /dev/vda /mnt/d && cat /mnt/d/kept && ls /mnt/d");
            Assert.True(mounted.Status == 0, mounted.Stderr);
            Assert.StartsWith("before\n", mounted.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("later", mounted.Stdout, StringComparison.Ordinal);
            var refused = await VesselCli.RunAsync("vm", "snapshot", "delete", "demo", "s1", "--state-dir", _state);
            Assert.NotEqual(0, refused.Status);
            Assert.Contains("demo2", refused.Stderr, StringComparison.Ordinal);
            await Cli("vm", "stop", "demo2");
            await Cli("vm", "delete", "demo2");
            await Cli("vm", "snapshot", "delete", "demo", "s1");
            Assert.False(Directory.Exists(Path.GetDirectoryName(copy)));
        }
        finally
        {
            await serve.DisposeAsync();
        }
    }

    /// <summary>Reverts to s1 and checks the snapshot's instant is back; returns how long the revert command took.</summary>
    private async Task<TimeSpan> Revert(string pid)
    {
        var revert = Stopwatch.StartNew();
        await Cli("vm", "snapshot", "revert", "demo", "s1");
        revert.Stop();
        var a = await Exec("--timeout", "120", "--", "cat", "/root/a");
        Assert.True(a.Status == 0, $"after revert: cat /root/a exited {a.Status}: {a.Stderr}");
        Assert.Equal("hello\n", a.Stdout);
        Assert.Equal("before\n", await ExecOk("cat /mnt/d/kept"));
        var after = await Exec("--", "test", "-e", "/mnt/d/after");
        Assert.Equal(1, after.Status);
        await AssertTickerRuns(pid);
        return revert.Elapsed;
    }

    private async Task AssertTickerRuns(string pid)
    {
        await ExecOk($"test -d /proc/{pid}");
        long first = await ReadTick();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1); // a loaded host may run the guest slowly
        long later;
        while ((later = await ReadTick()) <= first && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
        }

        Assert.True(later > first, $"/tmp/tick did not advance ({first} then {later}): pid {pid} is not ticking");
    }

    /// <summary>The ticker's last second; waits for its first tick.</summary>
    private async Task<long> ReadTick()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            string text = (await ExecOk("cat /tmp/tick 2>/dev/null; true")).Trim();
            if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long tick))
            {
                return tick;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the ticker never wrote /tmp/tick (read '{text}')");
            await Task.Delay(1000);
        }
    }

    public void Dispose() => VesselCli.KillWorkersAndDelete(_state, "demo", "demo2");

    private async Task<string> ExecOk(string script)
    {
        var result = await Exec("--timeout", "120", "--", "sh", "-c", script);
        Assert.True(result.Status == 0, $"exec '{script}' exited {result.Status}:\n{result.Stdout}\n{result.Stderr}");
        return result.Stdout;
    }

    private Task<(int Status, string Stdout, string Stderr)> Exec(params string[] rest) =>
        VesselCli.RunAsync(["vm", "exec", "demo", "--state-dir", _state, .. rest]);

    private async Task Cli(params string[] arguments)
    {
        var result = await VesselCli.RunAsync([.. arguments, "--state-dir", _state]);
        Assert.True(result.Status == 0, $"vessel {string.Join(' ', arguments)} exited {result.Status}:\n{result.Stdout}\n{result.Stderr}");
    }
}
