namespace Vessel.EndToEnd.Tests;

/// <summary>
/// <c>vessel vm events NAME --follow</c> streams events as they happen (issue 6's events stream): a VM whose kernel
/// file is gone still produces created, starting and failed events, so no guest kit is needed.
/// </summary>
public sealed class VmEventsFollowTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-events-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task FollowPrintsNewEventsAsJsonLines()
    {
        Directory.CreateDirectory(_state);
        string kernel = Path.Combine(_state, "garbage-Image");
        await File.WriteAllBytesAsync(kernel, new byte[4096]);
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        await Run("vm", "create", "ev", "--memory", "64M", "--net", "none", "--kernel", kernel, "--state-dir", _state);

        await using var follow = VesselProcess.Start("vm", "events", "ev", "--follow", "--json", "--state-dir", _state);
        int created = await follow.WaitForAsync("\"kind\":\"created\"", TimeSpan.FromMinutes(1));
        Assert.DoesNotContain("\"kind\":\"starting\"", follow.Output);

        File.Delete(kernel);
        await Run("vm", "start", "ev", "--state-dir", _state); // fails in the worker: its kernel is gone
        await follow.WaitForAsync("\"kind\":\"starting\"", TimeSpan.FromMinutes(1), created);
        await follow.WaitForAsync("\"kind\":\"failed\"", TimeSpan.FromMinutes(2), created);

        // One JSON object per line, each event once.
        string[] lines = follow.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.All(lines, l => Assert.StartsWith("{", l, StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("\"kind\":\"created\"", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("\"kind\":\"starting\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FollowingAMissingVmIsAnError()
    {
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        await using var follow = VesselProcess.Start("vm", "events", "nope", "--follow", "--state-dir", _state);
        Assert.Equal(1, await follow.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("nope", follow.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    private static async Task Run(params string[] arguments)
    {
        await using var cli = VesselProcess.Start(arguments);
        await cli.WaitForExitAsync(TimeSpan.FromMinutes(2));
    }
}
