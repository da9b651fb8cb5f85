namespace Vessel.EndToEnd.Tests;

/// <summary>
/// A clone is a different machine to its guest: under <c>vessel serve</c> a VM and its clone each boot with their
/// own name as hostname and their own /etc/machine-id, as <c>vessel vm exec</c> shows.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class CloneIdentityTests : IDisposable
{
    private const string BootTimeout = "240";
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-ident-" + Guid.NewGuid().ToString("N")[..12]);

    [GuestKitFact]
    public async Task CloneHasItsOwnHostnameAndMachineId()
    {
        Directory.CreateDirectory(_state);
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        await Cli("vm", "create", "web.a", "--memory", "192M");
        await Cli("vm", "clone", "web.a", "web_b");

        var ids = new Dictionary<string, string>();
        foreach (var (vm, hostname) in new[] { ("web.a", "web-a"), ("web_b", "web-b") })
        {
            await Cli("vm", "start", vm);
            var name = await Exec(vm, "--timeout", BootTimeout, "--", "hostname");
            Assert.True(name.Status == 0, $"{vm}: {name.Stderr}");
            Assert.Equal(hostname + "\n", name.Stdout);
            var id = await Exec(vm, "--", "cat", "/etc/machine-id");
            Assert.True(id.Status == 0, $"{vm}: {id.Stderr}");
            Assert.Matches("^[0-9a-f]{32}\n$", id.Stdout);
            ids[vm] = id.Stdout.Trim();
            await Cli("vm", "stop", vm);
        }

        Assert.NotEqual(ids["web.a"], ids["web_b"]);

        // The id is part of the definition: a restart keeps it.
        await Cli("vm", "start", "web.a");
        var again = await Exec("web.a", "--timeout", BootTimeout, "--", "cat", "/etc/machine-id");
        Assert.Equal(ids["web.a"] + "\n", again.Stdout);
        await Cli("vm", "stop", "web.a");
    }

    public void Dispose() => VesselCli.KillWorkersAndDelete(_state, "web.a", "web_b");

    private Task<(int Status, string Stdout, string Stderr)> Exec(string vm, params string[] rest) =>
        VesselCli.RunAsync(["vm", "exec", vm, "--state-dir", _state, .. rest]);

    private async Task Cli(params string[] arguments)
    {
        var result = await VesselCli.RunAsync([.. arguments, "--state-dir", _state]);
        Assert.True(result.Status == 0, $"vessel {string.Join(' ', arguments)} exited {result.Status}:\n{result.Stdout}\n{result.Stderr}");
    }
}
