using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Vessel.Api.Tests;

/// <summary>The VM routes over the real Unix socket: definitions, validation as RFC 7807 problem details, history.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class VmApiTests
{
    [Fact]
    public async Task CreateListShowDeleteRoundTrip()
    {
        await using var api = await RunningApi.StartAsync();
        var created = await api.Unix.PostAsJsonAsync("api/vms", new { name = "alpha", cpus = 2, memory = "256M", restartPolicy = "on-failure" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/vms/alpha", created.Headers.Location?.ToString());

        var list = await api.Unix.GetFromJsonAsync<JsonElement>("api/vms");
        var vm = Assert.Single(list.EnumerateArray());
        Assert.Equal("alpha", vm.GetProperty("definition").GetProperty("name").GetString());
        Assert.Equal(256UL << 20, vm.GetProperty("definition").GetProperty("memoryBytes").GetUInt64());
        Assert.Equal("on-failure", vm.GetProperty("definition").GetProperty("restartPolicy").GetString());
        Assert.Equal("stopped", vm.GetProperty("state").GetString());

        var shown = await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/alpha");
        Assert.Equal(2, shown.GetProperty("definition").GetProperty("cpus").GetInt32());

        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/alpha")).StatusCode);
        Assert.Empty((await api.Unix.GetFromJsonAsync<JsonElement>("api/vms")).EnumerateArray());

        var events = await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/alpha/events");
        Assert.Equal(["created", "deleted"], events.EnumerateArray().Select(e => e.GetProperty("kind").GetString()!).ToArray());
    }

    [Fact]
    public async Task InvalidDefinitionIsAProblemNamingEveryBadField()
    {
        await using var api = await RunningApi.StartAsync();
        var response = await api.Unix.PostAsJsonAsync("api/vms", new
        {
            name = "Bad Name!",
            cpus = 0,
            memory = "4096T",
            disks = new[] { new { path = "/nonexistent/disk.qcow2", format = "iso" } },
            restartPolicy = "sometimes",
        });
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Contains("not a valid VM name", errors.GetProperty("name")[0].GetString());
        Assert.Contains("between 1 and", errors.GetProperty("cpus")[0].GetString());
        Assert.Contains("larger than the host", errors.GetProperty("memory")[0].GetString());
        string disk = string.Join(" ", errors.GetProperty("disks[0]").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("unknown disk: /nonexistent/disk.qcow2 does not exist", disk);
        Assert.Contains("unknown disk format 'iso'", disk);
        Assert.Contains("unknown restart policy 'sometimes'", errors.GetProperty("restartPolicy")[0].GetString());
    }

    [Fact]
    public async Task DuplicateNameIsAConflict()
    {
        await using var api = await RunningApi.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.Unix.PostAsJsonAsync("api/vms", new { name = "twin" })).StatusCode);
        var problem = await ReadProblemAsync(await api.Unix.PostAsJsonAsync("api/vms", new { name = "twin" }), HttpStatusCode.Conflict);
        Assert.Equal("a VM named 'twin' already exists", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task UnknownVmIsNotFoundForEveryRoute()
    {
        await using var api = await RunningApi.StartAsync();
        foreach (var (method, path) in new[] { ("GET", "api/vms/ghost"), ("DELETE", "api/vms/ghost"), ("POST", "api/vms/ghost/start"), ("POST", "api/vms/ghost/stop"), ("POST", "api/vms/ghost/kill"), ("GET", "api/vms/ghost/events") })
        {
            var problem = await ReadProblemAsync(await api.Unix.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)), HttpStatusCode.NotFound);
            Assert.Equal("no VM named 'ghost' is defined", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task StoppingAStoppedVmIsAConflict()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "idle" });
        var problem = await ReadProblemAsync(await api.Unix.PostAsync("api/vms/idle/stop", null), HttpStatusCode.Conflict);
        Assert.Contains("is not running", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task MalformedJsonIsABadRequestProblem()
    {
        await using var api = await RunningApi.StartAsync();
        var response = await api.Unix.PostAsync("api/vms", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task UnknownRouteIsANotFoundProblem()
    {
        await using var api = await RunningApi.StartAsync();
        var problem = await ReadProblemAsync(await api.Unix.GetAsync("api/nothing-here"), HttpStatusCode.NotFound);
        Assert.Contains("openapi.json", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TcpRequiresTheBearerTokenAndTheUnixSocketDoesNot()
    {
        await using var api = await RunningApi.StartAsync();
        var refused = await ReadProblemAsync(await api.Tcp.GetAsync("api/vms"), HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", refused.GetProperty("detail").GetString());

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "api/vms");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", new string('0', 64));
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Tcp.SendAsync(wrong)).StatusCode);

        string token = File.ReadAllText(Path.Combine(api.StateDirectory, "api-token")).Trim();
        using var right = new HttpRequestMessage(HttpMethod.Get, "api/host");
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var host = await (await api.Tcp.SendAsync(right)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Environment.ProcessorCount, host.GetProperty("cores").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await api.Unix.GetAsync("api/vms")).StatusCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(api.StateDirectory, "api-token")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(api.StateDirectory, "vessel.sock")));
    }

    [Fact]
    public async Task OpenApiDocumentListsTheRoutes()
    {
        await using var api = await RunningApi.StartAsync();
        var doc = await api.Unix.GetFromJsonAsync<JsonElement>("api/openapi.json");
        var paths = doc.GetProperty("paths");
        foreach (string path in new[] { "/api/vms", "/api/vms/{name}", "/api/vms/{name}/start", "/api/vms/{name}/stop", "/api/vms/{name}/kill", "/api/vms/{name}/events", "/api/host" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing from the OpenAPI document");
        }
    }

    [Fact]
    public async Task HostReportsAllocatedZeroWithNothingRunning()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "a", memory = "64M" });
        var host = await api.Unix.GetFromJsonAsync<JsonElement>("api/host");
        Assert.True(host.GetProperty("memoryBytes").GetUInt64() > 0);
        Assert.Equal(0UL, host.GetProperty("allocatedMemoryBytes").GetUInt64());
        Assert.Equal(1, host.GetProperty("definedVms").GetInt32());
    }

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
