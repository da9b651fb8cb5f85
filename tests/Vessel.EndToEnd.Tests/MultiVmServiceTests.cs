using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Issue 6's many-VM checks through the real CLI: three VMs under one <c>vessel serve</c>, each answering on its own
/// serial console; pause and resume; a NAT NIC with a port forward into one of them; a SIGKILLed worker recorded as crashed while the
/// others keep answering; a full clone that boots; an export imported into a second state directory (as on
/// another host) that boots there.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class MultiVmServiceTests : IDisposable
{
    private const string BootTimeout = "300";
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(5);
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-multi-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _otherState = Path.Combine(Path.GetTempPath(), "vessel-e2e-multi2-" + Guid.NewGuid().ToString("N")[..12]);

    [GuestKitFact]
    public async Task ThreeVmsConsolesPortForwardCrashIsolationFullCloneAndImportElsewhere()
    {
        int port = FreePort();
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state, "--allow-overcommit");
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        await Cli(_state, "vm", "create", "web", "--memory", "192M", "--net", $"user,hostfwd=tcp:127.0.0.1:{port}-:80");
        await Cli(_state, "vm", "create", "b", "--memory", "192M");
        await Cli(_state, "vm", "create", "c", "--memory", "192M", "--net", "none");
        var web = await CliJson(_state, "vm", "show", "web");
        Assert.StartsWith($"user,hostfwd=tcp:127.0.0.1:{port}-:80,mac=52:54:00:", web.GetProperty("definition").GetProperty("nics")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await CliJson(_state, "vm", "show", "c")).GetProperty("definition").GetProperty("nics").GetArrayLength());

        string[] vms = ["web", "b", "c"];
        foreach (string vm in vms)
        {
            await Cli(_state, "vm", "start", vm);
        }

        // Each VM answers on its own console; $((…)) makes the answer differ from the echoed command.
        for (int i = 0; i < vms.Length; i++)
        {
            await using var console = VesselProcess.Start("vm", "console", vms[i], "--state-dir", _state);
            await console.WaitForAsync($"attached to {vms[i]}", TimeSpan.FromMinutes(1));
            await console.SendAsync($"\necho console-$((40+{i}))-{vms[i]}\n");
            await console.WaitForAsync($"console-{40 + i}-{vms[i]}", Boot);
            await console.SendAsync("\u0001d");
            Assert.Equal(0, await console.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        // The service VM's NAT NIC works: a server in the guest is reachable through its port forward.
        var httpd = await Exec(_state, "web", "--timeout", BootTimeout, "--", "sh", "-c", "mkdir -p /www && echo served-by-$((6*7)) > /www/index.html && httpd -p 80 -h /www");
        Assert.True(httpd.Status == 0, httpd.Stderr);
        Assert.Equal("served-by-42\n", await GetWithRetry($"http://127.0.0.1:{port}/index.html"));

        // Pause parks c's harts (the VM is still running, shown as paused); resume lets it go on.
        var paused = await CliJson(_state, "vm", "pause", "c");
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal("running", paused.GetProperty("state").GetString());
        ulong parked = (await CliJson(_state, "vm", "show", "c")).GetProperty("stats").GetProperty("instructionsRetired").GetUInt64();
        await Task.Delay(2000);
        Assert.Equal(parked, (await CliJson(_state, "vm", "show", "c")).GetProperty("stats").GetProperty("instructionsRetired").GetUInt64());
        Assert.False((await CliJson(_state, "vm", "resume", "c")).GetProperty("paused").GetBoolean());

        // SIGKILL b's worker (restart policy no): the crash is recorded, web and c keep answering.
        int bPid = (await CliJson(_state, "vm", "show", "b")).GetProperty("pid").GetInt32();
        Process.GetProcessById(bPid).Kill();
        var b = await WaitForState("b", vm => vm.GetProperty("state").GetString() != "running");
        Assert.Equal("crashed", b.GetProperty("state").GetString());
        string[] kinds = [.. (await CliJson(_state, "vm", "events", "b")).EnumerateArray().Select(e => e.GetProperty("kind").GetString()!)];
        Assert.Contains("crashed", kinds);
        foreach (string vm in new[] { "web", "c" })
        {
            var alive = await Exec(_state, vm, "--", "sh", "-c", "echo alive-$((1+1))");
            Assert.True(alive.Status == 0 && alive.Stdout == "alive-2\n", $"{vm}: {alive.Status} {alive.Stdout} {alive.Stderr}");
            Assert.Equal("running", (await CliJson(_state, "vm", "show", vm)).GetProperty("state").GetString());
        }

        // A full clone of a stopped VM boots on its own; an export imports into another state dir and boots there.
        var mark = await Exec(_state, "c", "--", "sh", "-c", "echo $((7*6))");
        Assert.Equal("42\n", mark.Stdout);
        await Cli(_state, "vm", "stop", "c");
        var full = await CliJson(_state, "vm", "clone", "c", "c-full");
        Assert.Equal("c-full", full.GetProperty("definition").GetProperty("name").GetString());
        await Cli(_state, "vm", "start", "c-full");
        var cloned = await Exec(_state, "c-full", "--timeout", BootTimeout, "--", "uname", "-m");
        Assert.Equal("riscv64\n", cloned.Stdout);
        await Cli(_state, "vm", "stop", "c-full");

        string archive = Path.Combine(_state, "web.vessel");
        await Cli(_state, "vm", "stop", "web");
        await Cli(_state, "vm", "export", "web", archive);
        await using (var other = VesselProcess.Start("serve", "--state-dir", _otherState))
        {
            await other.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
            await Cli(_otherState, "vm", "import", archive, "--name", "web2");
            var imported = await CliJson(_otherState, "vm", "show", "web2");
            string nic = imported.GetProperty("definition").GetProperty("nics")[0].GetString()!;
            Assert.NotEqual(web.GetProperty("definition").GetProperty("nics")[0].GetString(), nic); // a new name gets a new MAC
            await Cli(_otherState, "vm", "start", "web2");
            var there = await Exec(_otherState, "web2", "--timeout", BootTimeout, "--", "sh", "-c", "echo imported-$((2*21))");
            Assert.Equal("imported-42\n", there.Stdout);
            await Cli(_otherState, "vm", "stop", "web2");
        }
    }

    public void Dispose()
    {
        VesselCli.KillWorkersAndDelete(_state, "web", "b", "c", "c-full");
        VesselCli.KillWorkersAndDelete(_otherState, "web2");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The guest leases its address by DHCP in the background, so the first connections may find no one.</summary>
    private static async Task<string> GetWithRetry(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                return await http.GetStringAsync(url);
            }
            catch (Exception e) when ((e is HttpRequestException or TaskCanceledException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
            }
        }
    }

    private async Task<JsonElement> WaitForState(string vm, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var info = await CliJson(_state, "vm", "show", vm);
            if (done(info) || DateTime.UtcNow > deadline)
            {
                return info;
            }

            await Task.Delay(500);
        }
    }

    private static Task<(int Status, string Stdout, string Stderr)> Exec(string state, string vm, params string[] rest) =>
        VesselCli.RunAsync(["vm", "exec", vm, "--state-dir", state, .. rest]);

    private static async Task Cli(string state, params string[] arguments)
    {
        var result = await VesselCli.RunAsync([.. arguments, "--state-dir", state]);
        Assert.True(result.Status == 0, $"vessel {string.Join(' ', arguments)} exited {result.Status}:\n{result.Stdout}\n{result.Stderr}");
    }

    private static async Task<JsonElement> CliJson(string state, params string[] arguments)
    {
        var result = await VesselCli.RunAsync([.. arguments, "--state-dir", state, "--json"]);
        Assert.True(result.Status == 0, $"vessel {string.Join(' ', arguments)} exited {result.Status}:\n{result.Stderr}");
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }
}
