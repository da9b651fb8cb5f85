using System.Diagnostics;
using System.Text.Json;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Issue 6 through the real CLI: <c>vessel vm exec</c> against the guest agent of a VM booted under
/// <c>vessel serve</c> (output, stderr and exit status), then a linked clone and an export/import copy of it that
/// both boot and see the source's disk contents, and the source refused start while its linked clone exists.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class GuestAgentServiceTests : IDisposable
{
    private const string BootTimeout = "240";
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-agent-" + Guid.NewGuid().ToString("N")[..12]);

    [GuestKitFact]
    public async Task ExecCloneExportImport()
    {
        Directory.CreateDirectory(_state);
        string disk = Path.Combine(_state, "data.qcow2");
        Vessel.Storage.Qcow2.Qcow2Image.Create(disk, 32UL << 20);
        string archive = Path.Combine(_state, "src.vessel");
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        await Cli("vm", "create", "src", "--memory", "256M", "--disk", disk);
        await Cli("vm", "start", "src");

        var uname = await Exec("src", "--timeout", BootTimeout, "--", "uname", "-a");
        Assert.True(uname.Status == 0, $"exec uname: {uname.Status}\n{uname.Stdout}\n{uname.Stderr}");
        Assert.StartsWith("Linux src 6.", uname.Stdout, StringComparison.Ordinal);
        Assert.Contains("riscv64", uname.Stdout, StringComparison.Ordinal);

        var failing = await Exec("src", "--", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3");
        Assert.Equal(3, failing.Status);
        Assert.Equal("to-stdout\n", failing.Stdout);
        Assert.Equal("to-stderr\n", failing.Stderr);

        var missing = await Exec("src", "--", "no-such-program");
        Assert.Equal(127, missing.Status);
        Assert.Contains("no-such-program", missing.Stderr, StringComparison.Ordinal);

        var write = await Exec("src", "--", "sh", "-c", "mke2fs -q /dev/vda && mkdir -p /mnt/d && mount /dev/vda /mnt/d && echo payload-42 > /mnt/d/f && umount /mnt/d && sync");
        Assert.True(write.Status == 0, write.Stderr);
        await Cli("vm", "stop", "src");

        var linked = await CliJson("vm", "clone", "src", "lnk", "--linked");
        Assert.Equal("lnk", linked.GetProperty("definition").GetProperty("name").GetString());
        await Cli("vm", "export", "src", archive);
        await Cli("vm", "import", archive, "--name", "imp");
        var refused = await VesselCli.RunAsync("vm", "start", "src", "--state-dir", _state);
        Assert.Equal(1, refused.Status);
        Assert.Contains("linked clone 'lnk'", refused.Stderr, StringComparison.Ordinal);

        foreach (string vm in new[] { "lnk", "imp" })
        {
            await Cli("vm", "start", vm);
            var read = await Exec(vm, "--timeout", BootTimeout, "--", "sh", "-c", "mkdir -p /mnt/d && mount /dev/vda /mnt/d && cat /mnt/d/f && umount /mnt/d");
            Assert.True(read.Status == 0, $"{vm}: {read.Stderr}");
            Assert.Equal("payload-42\n", read.Stdout);
            await Cli("vm", "stop", vm);
        }

        // Deleting the clone releases the source.
        await Cli("vm", "delete", "lnk");
        Assert.False(Directory.Exists(Path.Combine(_state, "vms", "lnk")));
        await Cli("vm", "start", "src");
        await Cli("vm", "stop", "src");
    }

    public void Dispose() => VesselCli.KillWorkersAndDelete(_state, "src", "lnk", "imp");

    private Task<(int Status, string Stdout, string Stderr)> Exec(string vm, params string[] rest) =>
        VesselCli.RunAsync(["vm", "exec", vm, "--state-dir", _state, .. rest]);

    private async Task Cli(params string[] arguments)
    {
        var result = await VesselCli.RunAsync([.. arguments, "--state-dir", _state]);
        Assert.True(result.Status == 0, $"vessel {string.Join(' ', arguments)} exited {result.Status}:\n{result.Stdout}\n{result.Stderr}");
    }

    private async Task<JsonElement> CliJson(params string[] arguments)
    {
        var result = await VesselCli.RunAsync([.. arguments, "--state-dir", _state, "--json"]);
        Assert.True(result.Status == 0, $"vessel {string.Join(' ', arguments)} exited {result.Status}:\n{result.Stderr}");
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }
}
