using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Api.Tests;

/// <summary>exec, clone, export and import routes: problem details for every refusal, and the files they make.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ExecAndPortabilityApiTests
{
    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>A VM with a custom (dummy) kernel, so start gets past the guest-kit check, and one qcow2 disk.</summary>
    private static async Task<string> CreateVmWithDisk(RunningApi api, string name, params string[] nics)
    {
        string kernel = Path.Combine(api.StateDirectory, "Image");
        File.WriteAllBytes(kernel, new byte[64]);
        string disk = Path.Combine(api.StateDirectory, name + ".qcow2");
        Qcow2Image.Create(disk, 8UL << 20);
        var created = await api.Unix.PostAsJsonAsync("api/vms", new { name, memory = "128M", kernel, firmware = kernel, disks = new[] { new { path = disk, format = "qcow2" } }, nics });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return disk;
    }

    [Fact]
    public async Task ExecOnAStoppedVmIsAConflict()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "alpha", memory = "128M" });
        var problem = await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/exec", new { argv = new[] { "true" } }), HttpStatusCode.Conflict);
        Assert.Contains("not running", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecRequestErrorsNameTheField()
    {
        await using var api = await RunningApi.StartAsync();
        await api.Unix.PostAsJsonAsync("api/vms", new { name = "alpha", memory = "128M" });
        var problem = await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/exec", new { argv = Array.Empty<string>(), timeoutSeconds = 0 }), HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Contains("argv", errors.GetProperty("argv")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("between 1 and 3600", errors.GetProperty("timeoutSeconds")[0].GetString(), StringComparison.Ordinal);
        await Problem(await api.Unix.PostAsJsonAsync("api/vms/nobody/exec", new { argv = new[] { "true" } }), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task FullCloneCopiesDisksAndGivesNewMacs()
    {
        await using var api = await RunningApi.StartAsync();
        await CreateVmWithDisk(api, "alpha", "user,mac=52:54:00:12:34:56");
        var response = await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "beta" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var clone = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("definition");
        string disk = clone.GetProperty("disks")[0].GetProperty("path").GetString()!;
        Assert.Equal(Path.Combine(api.StateDirectory, "vms", "beta", "disks", "0.qcow2"), disk);
        Assert.Null(DiskImageInspector.Inspect(disk).BackingFile);
        string nic = clone.GetProperty("nics")[0].GetString()!;
        Assert.Matches("^user,mac=52:54:00:", nic);
        Assert.DoesNotContain("12:34:56", nic, StringComparison.Ordinal);

        await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "beta" }), HttpStatusCode.Conflict);
        await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "Bad Name" }), HttpStatusCode.BadRequest);
        Assert.False(Directory.Exists(Path.Combine(api.StateDirectory, "vms", "Bad Name")));

        // Deleting the clone removes the disks Vessel made for it.
        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/beta")).StatusCode);
        Assert.False(File.Exists(disk));
    }

    [Fact]
    public async Task LinkedCloneIsAnOverlayAndPinsItsSource()
    {
        await using var api = await RunningApi.StartAsync();
        string source = await CreateVmWithDisk(api, "alpha");
        var response = await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "beta", linked = true });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        string overlay = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("definition").GetProperty("disks")[0].GetProperty("path").GetString()!;
        Assert.Equal(source, DiskImageInspector.Inspect(overlay).BackingFile);

        var start = await Problem(await api.Unix.PostAsync("api/vms/alpha/start", null), HttpStatusCode.Conflict);
        Assert.Contains("linked clone 'beta'", start.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Problem(await api.Unix.DeleteAsync("api/vms/alpha"), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/beta")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/alpha")).StatusCode);
    }

    [Fact]
    public async Task ExportImportRoundTripAndTamperedArchiveIsAProblem()
    {
        await using var api = await RunningApi.StartAsync();
        await CreateVmWithDisk(api, "alpha");
        string archive = Path.Combine(api.StateDirectory, "alpha.vessel");
        var exported = await api.Unix.PostAsJsonAsync("api/vms/alpha/export", new { path = archive });
        Assert.Equal(HttpStatusCode.OK, exported.StatusCode);
        Assert.Equal(new FileInfo(archive).Length, (await exported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("size").GetInt64());

        var imported = await api.Unix.PostAsJsonAsync("api/vms/import", new { path = archive, name = "copy" });
        Assert.Equal(HttpStatusCode.Created, imported.StatusCode);
        var definition = (await imported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("definition");
        Assert.Equal(128UL << 20, definition.GetProperty("memoryBytes").GetUInt64());
        string kernel = definition.GetProperty("kernel").GetString()!;
        Assert.StartsWith(Path.Combine(api.StateDirectory, "vms", "copy"), kernel, StringComparison.Ordinal);
        Assert.Equal(new byte[64], File.ReadAllBytes(kernel));

        // Same name again: a conflict, and nothing of the first import is touched.
        await Problem(await api.Unix.PostAsJsonAsync("api/vms/import", new { path = archive, name = "copy" }), HttpStatusCode.Conflict);
        Assert.True(File.Exists(kernel));

        byte[] bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0x01;
        string tampered = Path.Combine(api.StateDirectory, "tampered.vessel");
        File.WriteAllBytes(tampered, bytes);
        var problem = await Problem(await api.Unix.PostAsJsonAsync("api/vms/import", new { path = tampered, name = "evil" }), HttpStatusCode.BadRequest);
        Assert.Equal("Invalid VM archive", problem.GetProperty("title").GetString());
        Assert.False(Directory.Exists(Path.Combine(api.StateDirectory, "vms", "evil")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(api.StateDirectory, "vms"), ".import-*"));

        await Problem(await api.Unix.PostAsJsonAsync("api/vms/import", new { path = "relative.vessel" }), HttpStatusCode.BadRequest);
        await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/export", new { path = "/no/such/dir/x.vessel" }), HttpStatusCode.BadRequest);
    }
}
