using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Issue 6 (memory): virtio-balloon under <c>vessel serve</c>. A 512 MiB guest dirties 300 MiB and frees it; a
/// balloon target of 192 MiB makes the guest hand the rest back, the worker's RSS drops and the guest's
/// /proc/meminfo shrinks; deflating to 512 MiB gives the guest its memory back.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed class BalloonServiceTests(ITestOutputHelper output) : IDisposable
{
    private const string BootTimeout = "240";
    private const ulong MiB = 1 << 20;
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-e2e-balloon-" + Guid.NewGuid().ToString("N")[..12]);

    [GuestKitFact]
    public async Task InflatingGivesGuestMemoryBackToTheHostAndDeflatingReturnsIt()
    {
        Directory.CreateDirectory(_state);
        await using var serve = VesselProcess.Start("serve", "--state-dir", _state);
        await serve.WaitForAsync("vessel serve: API on", TimeSpan.FromMinutes(1));
        await Cli("vm", "create", "bal", "--memory", "512M");
        await Cli("vm", "start", "bal");

        var up = await Exec("--timeout", BootTimeout, "--", "true");
        Assert.True(up.Status == 0, up.Stderr);
        var before = await MemInfo();
        await FillAndFree();
        int pid = (await CliJson("vm", "show", "bal")).GetProperty("pid").GetInt32();
        ulong rssFull = WorkerRss(pid);

        var refused = await VesselCli.RunAsync("vm", "balloon", "bal", "1G", "--state-dir", _state);
        Assert.NotEqual(0, refused.Status);
        Assert.Contains("512", refused.Stderr, StringComparison.Ordinal);

        await Cli("vm", "balloon", "bal", "192M");
        var stats = await WaitForBalloon((512 - 192) * MiB);
        ulong rssBallooned = WorkerRss(pid);
        var after = await MemInfo();
        output.WriteLine($"worker RSS: {rssFull / MiB} MiB after filling 300 MiB, {rssBallooned / MiB} MiB with the balloon at 192 MiB (stats rss {stats.GetProperty("rssBytes").GetUInt64() / MiB} MiB)");
        output.WriteLine($"guest MemTotal {before.Total / MiB} -> {after.Total / MiB} MiB, MemAvailable {before.Available / MiB} -> {after.Available / MiB} MiB");
        Assert.True(rssFull - Math.Min(rssFull, rssBallooned) >= 100 * MiB, $"RSS went from {rssFull / MiB} to {rssBallooned / MiB} MiB");
        Assert.True(before.Total - after.Total >= 300 * MiB, $"MemTotal went from {before.Total / MiB} to {after.Total / MiB} MiB");
        Assert.True(after.Available < 192 * MiB, $"MemAvailable is {after.Available / MiB} MiB with 192 MiB left to the guest");

        await Cli("vm", "balloon", "bal", "512M");
        await WaitForBalloon(0);
        var restored = await MemInfo();
        Assert.Equal(before.Total, restored.Total);
        await FillAndFree();
        output.WriteLine($"deflated: MemTotal {restored.Total / MiB} MiB, worker RSS {WorkerRss(pid) / MiB} MiB after filling 300 MiB again");
        await Cli("vm", "stop", "bal");
    }

    public void Dispose() => VesselCli.KillWorkersAndDelete(_state, "bal");

    /// <summary>Dirties 300 MiB of guest RAM through a tmpfs file, then frees it.</summary>
    private async Task FillAndFree()
    {
        var fill = await Exec("--timeout", "600", "--", "sh", "-c",
            "mkdir -p /mnt/fill && mount -t tmpfs -o size=400m tmpfs /mnt/fill && dd if=/dev/zero of=/mnt/fill/f bs=1M count=300 2>/dev/null && " +
            "stat -c %s /mnt/fill/f && rm /mnt/fill/f && umount /mnt/fill");
        Assert.True(fill.Status == 0, $"fill: {fill.Status} {fill.Stdout} {fill.Stderr}");
        Assert.Equal((300 * MiB).ToString(CultureInfo.InvariantCulture), fill.Stdout.Trim());
    }

    private async Task<JsonElement> WaitForBalloon(ulong actualBytes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            var stats = await CliJson("vm", "stats", "bal");
            ulong actual = stats.GetProperty("balloon").GetProperty("actualBytes").GetUInt64();
            if (actual == actualBytes)
            {
                return stats;
            }

            Assert.True(DateTime.UtcNow < deadline, $"balloon stuck at {actual / MiB} MiB, waiting for {actualBytes / MiB} MiB");
            await Task.Delay(500);
        }
    }

    private async Task<(ulong Total, ulong Available)> MemInfo()
    {
        var info = await Exec("--", "cat", "/proc/meminfo");
        Assert.True(info.Status == 0, info.Stderr);
        ulong Field(string name) => ulong.Parse(
            info.Stdout.Split('\n').Single(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            CultureInfo.InvariantCulture) * 1024;
        return (Field("MemTotal"), Field("MemAvailable"));
    }

    private static ulong WorkerRss(int pid)
    {
        string line = File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return ulong.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private Task<(int Status, string Stdout, string Stderr)> Exec(params string[] rest) =>
        VesselCli.RunAsync(["vm", "exec", "bal", "--state-dir", _state, .. rest]);

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
