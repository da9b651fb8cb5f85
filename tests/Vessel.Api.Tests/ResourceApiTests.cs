using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vessel.Api.Tests;

/// <summary>Admission control as RFC 7807 problems, resource fields in definitions, stats and /metrics routes.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ResourceApiTests
{
    [Fact]
    public async Task StartBeyondTheHostsCoresIsAConflictUnlessTheVmAllowsOvercommit()
    {
        await using var api = await RunningApi.StartAsync();
        string kernel = Path.Combine(api.StateDirectory, "Image");
        await File.WriteAllBytesAsync(kernel, new byte[4096]);
        int cores = Environment.ProcessorCount;
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "wide", cpus = cores + 1, memory = "64M", kernel });

        var refused = await api.Unix.PostAsync("api/vms/wide/start", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        string detail = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains($"needs {cores + 1} vCPU but only {cores} of the host's {cores} cores are unallocated", detail);
        Assert.Contains("--allow-overcommit", detail);

        await api.Unix.PostAsJsonAsync("api/vms", new { name = "wide2", cpus = cores + 1, memory = "64M", kernel, allowOvercommit = true });
        var started = await api.Unix.PostAsync("api/vms/wide2/start", null);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
    }

    [Fact]
    public async Task CpuControlsAreValidatedAndStored()
    {
        await using var api = await RunningApi.StartAsync();
        var bad = await api.Unix.PostAsJsonAsync("api/vms", new { name = "x", cpuWeight = 0, cpuCapPercent = 150 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains("between 1 and 10000", errors.GetProperty("cpuWeight")[0].GetString());
        Assert.Contains("between 1 and 100 percent", errors.GetProperty("cpuCapPercent")[0].GetString());

        var ok = await api.Unix.PostAsJsonAsync("api/vms", new { name = "y", cpuWeight = 200, cpuCapPercent = 25 });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var definition = (await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/y")).GetProperty("definition");
        Assert.Equal(200, definition.GetProperty("cpuWeight").GetInt32());
        Assert.Equal(25, definition.GetProperty("cpuCapPercent").GetInt32());
    }

    [Fact]
    public async Task DiskBurstWithoutRateIsRefused()
    {
        await using var api = await RunningApi.StartAsync();
        string disk = Path.Combine(api.StateDirectory, "d.img");
        await File.WriteAllBytesAsync(disk, new byte[1 << 20]);
        var bad = await api.Unix.PostAsJsonAsync("api/vms", new { name = "z", disks = new[] { new { path = disk, rateLimit = new { bytesBurst = 4096 } } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("bps_burst needs bps", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("disks[0]")[0].GetString());
    }

    [Fact]
    public async Task StatsOfAStoppedVmAreZeroAndUnknownIsNotFound()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "idle", memory = "128M" });
        var stats = await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/idle/stats");
        Assert.Equal("stopped", stats.GetProperty("state").GetString());
        Assert.Equal(0UL, stats.GetProperty("rssBytes").GetUInt64());
        Assert.Equal(128UL << 20, stats.GetProperty("memoryBytes").GetUInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await api.Unix.GetAsync("api/vms/nope/stats")).StatusCode);

        var host = await api.Unix.GetFromJsonAsync<JsonElement>("api/host");
        Assert.Equal(0UL, host.GetProperty("usedMemoryBytes").GetUInt64());
        Assert.False(host.GetProperty("allowOvercommit").GetBoolean());
    }

    [Fact]
    public async Task MetricsExposeHostAndVmSeriesAndNeedTheTokenOnTcp()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "m1", cpus = 2, memory = "96M" });
        string text = await api.Unix.GetStringAsync("metrics");
        Assert.Contains($"vessel_host_cores {Environment.ProcessorCount}", text);
        Assert.Contains("vessel_vm_up{vm=\"m1\"} 0", text);
        Assert.Contains("vessel_vm_vcpus{vm=\"m1\"} 2", text);
        Assert.Contains($"vessel_vm_memory_bytes{{vm=\"m1\"}} {96 << 20}", text);
        Assert.Contains("# TYPE vessel_vm_instructions_total counter", text);

        await api.Unix.DeleteAsync("api/vms/m1");
        Assert.DoesNotContain("vm=\"m1\"", await api.Unix.GetStringAsync("metrics"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Tcp.GetAsync("metrics")).StatusCode);
    }
}
