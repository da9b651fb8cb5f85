using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vessel.Api.Tests;

/// <summary>PUT /api/vms/{name}/balloon: problem details for a bad size, a stopped VM and an unknown one.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BalloonApiTests
{
    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task SizesOutsideTheVmsMemoryNameTheField()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "alpha", memory = "128M" });
        foreach (long target in new long[] { 0, -5, 129 })
        {
            var problem = await Problem(await api.Unix.PutAsJsonAsync("api/vms/alpha/balloon", new { targetMiB = target }), HttpStatusCode.BadRequest);
            Assert.Contains("1..128 MiB", problem.GetProperty("errors").GetProperty("targetMiB")[0].GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BalloonOfAStoppedVmIsAConflictAndOfAnUnknownOneNotFound()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "alpha", memory = "128M" });
        var problem = await Problem(await api.Unix.PutAsJsonAsync("api/vms/alpha/balloon", new { targetMiB = 64 }), HttpStatusCode.Conflict);
        Assert.Contains("not running", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Problem(await api.Unix.PutAsJsonAsync("api/vms/nobody/balloon", new { targetMiB = 64 }), HttpStatusCode.NotFound);
    }
}
