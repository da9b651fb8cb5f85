using System.Text.Json;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// The hypervisor service end to end through the real CLI (issue 6): <c>vessel serve</c> on a temporary state dir,
/// a VM on the default guest kit in its own worker process, console attach/detach, a SIGKILLed worker restarted
/// under on-failure, and a supervisor restart that finds the running VM again.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class HostServiceTests : IDisposable
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-" + Guid.NewGuid().ToString("N")[..12]);

    [GuestKitFact]
    public async Task ServeStartAttachDetachCrashRestartAndRediscover()
    {
        var serve = VesselProcess.Start("serve", "--state-dir", _state);
        try
        {
            await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
            await Cli("vm", "create", "demo", "--memory", "256M", "--restart", "on-failure");
            var started = await CliJson("vm", "start", "demo");
            Assert.Contains(started.GetProperty("state").GetString(), new[] { "starting", "running" });

            // Attach, run a command, detach: the VM keeps running.
            await using (var console = VesselProcess.Start("vm", "console", "demo", "--state-dir", _state))
            {
                await console.WaitForAsync("attached to demo", TimeSpan.FromMinutes(1));
                await console.SendAsync("uname -a\n");
                await console.WaitForAsync("Linux demo 6.", Boot);
                await console.SendAsync("\u0001d");
                await console.WaitForAsync("detached from demo; it keeps running", TimeSpan.FromSeconds(30));
                Assert.Equal(0, await console.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            }

            var running = await CliJson("vm", "show", "demo");
            Assert.Equal("running", running.GetProperty("state").GetString());
            Assert.True(running.GetProperty("stats").GetProperty("instructionsRetired").GetUInt64() > 0);
            int firstPid = running.GetProperty("pid").GetInt32();

            // SIGKILL the worker from outside: the supervisor records a crash and restarts it (on-failure).
            System.Diagnostics.Process.GetProcessById(firstPid).Kill();
            var restarted = await WaitForState("demo", vm => vm.GetProperty("state").GetString() == "running" && vm.GetProperty("pid").GetInt32() != firstPid);
            Assert.Equal(1, restarted.GetProperty("restarts").GetInt32());
            string[] kinds = await EventKinds("demo");
            Assert.Contains("crashed", kinds);
            Assert.Contains("restarting", kinds);
            Assert.False(await HasExited(serve), "the supervisor must not be disturbed by a worker crash");

            // Kill the supervisor; a new one finds the running worker again.
            int workerPid = restarted.GetProperty("pid").GetInt32();
            await serve.KillAsync();
            await serve.DisposeAsync();
            serve = VesselProcess.Start("serve", "--state-dir", _state);
            await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
            var found = await CliJson("vm", "show", "demo");
            Assert.Equal("running", found.GetProperty("state").GetString());
            Assert.Equal(workerPid, found.GetProperty("pid").GetInt32());
            Assert.Contains("rediscovered", await EventKinds("demo"));

            var stopped = await CliJson("vm", "stop", "demo");
            Assert.Equal("stopped", stopped.GetProperty("state").GetString());
            Assert.Equal("stopped", (await EventKinds("demo"))[^1]);
            Assert.Equal(0, (await CliJson("host")).GetProperty("allocatedCpus").GetInt32());
        }
        finally
        {
            await serve.DisposeAsync();
        }
    }

    public void Dispose() => VesselCli.KillWorkersAndDelete(_state, "demo"); // a worker left behind by a failed test

    private static async Task<bool> HasExited(VesselProcess process)
    {
        try
        {
            await process.WaitForExitAsync(TimeSpan.FromMilliseconds(10));
            return true;
        }
        catch (Xunit.Sdk.XunitException)
        {
            return false;
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
        return JsonDocument.Parse(output[output.IndexOfAny(['{', '['])..]).RootElement.Clone();
    }

    private async Task<string[]> EventKinds(string vm) =>
        [.. (await CliJson("vm", "events", vm)).EnumerateArray().Select(e => e.GetProperty("kind").GetString()!)];

    private async Task<JsonElement> WaitForState(string vm, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var info = await CliJson("vm", "show", vm);
            if (done(info))
            {
                return info;
            }

            Assert.True(DateTime.UtcNow < deadline, $"VM {vm} did not reach the expected state; last: {info.GetRawText()}");
            await Task.Delay(500);
        }
    }
}
