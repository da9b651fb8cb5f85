using System.Diagnostics;
using System.Text.Json;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Issue 6's walkthrough, command for command as the README gives it (the VM runs throughout: it has no writable
/// disk, so it may be cloned and exported while running), and the refusal for a running VM whose disks would change
/// under the copy.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class WalkthroughTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-walk-" + Guid.NewGuid().ToString("N")[..12]);

    [GuestKitFact]
    public async Task TheReadmeWalkthroughWorksAsWritten()
    {
        Directory.CreateDirectory(_state);
        string archive = Path.Combine(_state, "demo.vessel");
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));

        await Ok("vm", "create", "demo", "--cpus", "1", "--memory", "256M", "--net", "user");
        await Ok("vm", "start", "demo");
        Assert.Equal("hello\n", (await Ok("vm", "exec", "demo", "--timeout", "300", "--", "sh", "-c", "echo hello > /root/a; cat /root/a")).Stdout);
        await Ok("vm", "snapshot", "create", "demo", "s1");
        await Ok("vm", "exec", "demo", "--", "rm", "/root/a");
        Assert.NotEqual(0, (await Run("vm", "exec", "demo", "--", "cat", "/root/a")).Status);
        await Ok("vm", "snapshot", "revert", "demo", "s1");
        Assert.Equal("hello\n", (await Ok("vm", "exec", "demo", "--timeout", "120", "--", "cat", "/root/a")).Stdout); // hello again
        await Ok("vm", "clone", "demo", "demo2", "--linked");
        await Ok("vm", "start", "demo2");
        string list = (await Ok("vm", "list")).Stdout;
        Assert.Contains("demo2", list, StringComparison.Ordinal);
        var stats = JsonDocument.Parse((await Ok("vm", "stats", "demo", "--json")).Stdout).RootElement;
        Assert.True(stats.GetProperty("instructionsPerSecond").GetDouble() >= 0);
        await Ok("vm", "export", "demo", archive);
        await Ok("vm", "import", archive, "--name", "demo3");
        await Ok("vm", "stop", "demo");

        // The copies are VMs of their own: the clone runs, the import boots.
        Assert.Equal("riscv64\n", (await Ok("vm", "exec", "demo2", "--timeout", "300", "--", "uname", "-m")).Stdout);
        await Ok("vm", "stop", "demo2");
        await Ok("vm", "start", "demo3");
        Assert.Equal("riscv64\n", (await Ok("vm", "exec", "demo3", "--timeout", "300", "--", "uname", "-m")).Stdout);
        await Ok("vm", "stop", "demo3");
    }

    [GuestKitFact]
    public async Task ARunningVmWithAWritableDiskIsNotClonedOrExported()
    {
        Directory.CreateDirectory(_state);
        string disk = Path.Combine(_state, "data.qcow2");
        Vessel.Storage.Qcow2.Qcow2Image.Create(disk, 16UL << 20);
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        await Ok("vm", "create", "busy", "--memory", "128M", "--net", "none", "--disk", disk);
        await Ok("vm", "start", "busy");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (JsonDocument.Parse((await Ok("vm", "show", "busy", "--json")).Stdout).RootElement.GetProperty("state").GetString() != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "the VM did not start");
            await Task.Delay(500);
        }

        var clone = await Run("vm", "clone", "busy", "copy");
        Assert.Equal(1, clone.Status);
        Assert.Contains("has writable disks", clone.Stderr, StringComparison.Ordinal);
        var export = await Run("vm", "export", "busy", Path.Combine(_state, "busy.vessel"));
        Assert.Equal(1, export.Status);
        Assert.Contains("has writable disks", export.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_state, "busy.vessel")));
        await Ok("vm", "stop", "busy");
        await Ok("vm", "clone", "busy", "copy"); // stopped, it clones
    }

    public void Dispose() => VesselCli.KillWorkersAndDelete(_state, "demo", "demo2", "demo3", "busy", "copy");

    /// <summary>Runs the CLI against this test's state dir; --state-dir goes before a "--" (the guest's command line follows it).</summary>
    private Task<(int Status, string Stdout, string Stderr)> Run(params string[] arguments)
    {
        int end = Array.IndexOf(arguments, "--");
        return VesselCli.RunAsync(end < 0 ? [.. arguments, "--state-dir", _state] : [.. arguments[..end], "--state-dir", _state, .. arguments[end..]]);
    }

    private async Task<(int Status, string Stdout, string Stderr)> Ok(params string[] arguments)
    {
        var result = await Run(arguments);
        Assert.True(result.Status == 0, $"vessel {string.Join(' ', arguments)} exited {result.Status}:\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

}
