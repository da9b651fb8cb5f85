using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Vessel.Storage;
using Vessel.Storage.Qcow2;

namespace Vessel.Api.Tests;

/// <summary>Pause/resume and snapshot routes without a running guest: errors as problem details, disk-only snapshots of stopped VMs.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SnapshotApiTests
{
    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    private static async Task<string> CreateVm(RunningApi api, string name, string format = "qcow2")
    {
        string disk = Path.Combine(api.StateDirectory, name + "." + format);
        if (format == "qcow2")
        {
            Qcow2Image.Create(disk, 8UL << 20);
        }
        else
        {
            File.WriteAllBytes(disk, new byte[1 << 20]);
        }

        var created = await api.Unix.PostAsJsonAsync("api/vms", new { name, memory = "128M", disks = new[] { new { path = disk, format } } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return disk;
    }

    private static void WriteSector(string disk, byte value)
    {
        using var image = DiskImage.Open(disk, "qcow2");
        byte[] sector = new byte[512];
        sector.AsSpan().Fill(value);
        image.Write(4096, sector);
        image.Flush();
    }

    private static byte ReadSector(string disk)
    {
        using var image = DiskImage.Open(disk, "qcow2", readOnly: true);
        byte[] sector = new byte[512];
        image.Read(4096, sector);
        Assert.All(sector, b => Assert.Equal(sector[0], b));
        return sector[0];
    }

    [Fact]
    public async Task UnknownVmIsNotFoundForEverySnapshotRoute()
    {
        await using var api = await RunningApi.StartAsync();
        var requests = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Post, "api/vms/ghost/pause", null),
            (HttpMethod.Post, "api/vms/ghost/resume", null),
            (HttpMethod.Get, "api/vms/ghost/snapshots", null),
            (HttpMethod.Post, "api/vms/ghost/snapshots", new { name = "s1" }),
            (HttpMethod.Post, "api/vms/ghost/snapshots/s1/revert", null),
            (HttpMethod.Delete, "api/vms/ghost/snapshots/s1", null),
        };
        foreach (var (method, path, body) in requests)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            var problem = await Problem(await api.Unix.SendAsync(request), HttpStatusCode.NotFound);
            Assert.Equal("no VM named 'ghost' is defined", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task UnknownSnapshotIsNotFound()
    {
        await using var api = await RunningApi.StartAsync();
        await CreateVm(api, "alpha");
        foreach (var response in new[] { await api.Unix.PostAsync("api/vms/alpha/snapshots/nope/revert", null), await api.Unix.DeleteAsync("api/vms/alpha/snapshots/nope") })
        {
            var problem = await Problem(response, HttpStatusCode.NotFound);
            Assert.Equal("No such snapshot", problem.GetProperty("title").GetString());
            Assert.Equal("VM 'alpha' has no snapshot named 'nope'", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task PauseAndResumeOfAStoppedVmAreConflicts()
    {
        await using var api = await RunningApi.StartAsync();
        await CreateVm(api, "alpha");
        foreach (string action in new[] { "pause", "resume" })
        {
            var problem = await Problem(await api.Unix.PostAsync($"api/vms/alpha/{action}", null), HttpStatusCode.Conflict);
            Assert.Equal("VM 'alpha' is not running (it is stopped)", problem.GetProperty("detail").GetString());
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("-leading-dash")]
    [InlineData("has space")]
    [InlineData("slash/inside")]
    [InlineData("a1234567890123456789012345678901234567890123456789012345678901234")]
    public async Task BadSnapshotNameIsABadRequest(string name)
    {
        await using var api = await RunningApi.StartAsync();
        await CreateVm(api, "alpha");
        var problem = await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name }), HttpStatusCode.BadRequest);
        Assert.Contains("must be 1-64 letters", problem.GetProperty("errors").GetProperty("name")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppedVmGetsADiskOnlySnapshotThatRevertsItsDisksAndLeavesItStopped()
    {
        await using var api = await RunningApi.StartAsync();
        string disk = await CreateVm(api, "alpha");
        WriteSector(disk, 0x11);

        var created = await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name = "s1", description = "before" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/vms/alpha/snapshots/s1", created.Headers.Location?.ToString());
        var duplicate = await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name = "s1" }), HttpStatusCode.Conflict);
        Assert.Equal("VM 'alpha' already has a snapshot named 's1'", duplicate.GetProperty("detail").GetString());

        WriteSector(disk, 0x22);
        Assert.Equal(HttpStatusCode.Created, (await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name = "s2" })).StatusCode);
        WriteSector(disk, 0x33);

        var reverted = await api.Unix.PostAsync("api/vms/alpha/snapshots/s1/revert", null);
        Assert.Equal(HttpStatusCode.OK, reverted.StatusCode);
        Assert.Equal("stopped", (await reverted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        Assert.Equal(0x11, ReadSector(disk));

        // Twice: a revert does not use the snapshot up.
        WriteSector(disk, 0x44);
        Assert.Equal(HttpStatusCode.OK, (await api.Unix.PostAsync("api/vms/alpha/snapshots/s1/revert", null)).StatusCode);
        Assert.Equal(0x11, ReadSector(disk));
        Assert.Equal(HttpStatusCode.OK, (await api.Unix.PostAsync("api/vms/alpha/snapshots/s2/revert", null)).StatusCode);
        Assert.Equal(0x22, ReadSector(disk));

        var list = (await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/alpha/snapshots")).EnumerateArray().ToList();
        Assert.Equal(["s1", "s2"], list.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("s1", list[1].GetProperty("parent").GetString());
        Assert.Equal("before", list[0].GetProperty("description").GetString());
        Assert.True(list[1].GetProperty("current").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/alpha/snapshots/s1")).StatusCode);
        var after = (await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/alpha/snapshots")).EnumerateArray().ToList();
        Assert.Equal("s2", Assert.Single(after).GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, after[0].GetProperty("parent").ValueKind);
        using var image = (Qcow2Image)DiskImage.Open(disk, "qcow2", readOnly: true);
        Assert.Equal(["s2"], image.ListSnapshots().Select(s => s.Name));
    }

    [Fact]
    public async Task StoppedVmWithARawDiskGetsASparseCopyAsItsSnapshot()
    {
        await using var api = await RunningApi.StartAsync();
        await CreateVm(api, "alpha", "raw");
        var created = await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name = "s1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(File.Exists(Path.Combine(api.StateDirectory, "vms", "alpha", "snapshots", "s1.disks", "0.img")));
        Assert.Equal("s1", Assert.Single((await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/alpha/snapshots")).EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task CloneOfASnapshotStartsFromItsDisksWithoutItsHistory()
    {
        await using var api = await RunningApi.StartAsync();
        string disk = await CreateVm(api, "alpha");
        WriteSector(disk, 0x11);
        Assert.Equal(HttpStatusCode.Created, (await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name = "s1" })).StatusCode);
        WriteSector(disk, 0x22);

        var response = await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "beta", snapshot = "s1" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        string copy = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("definition").GetProperty("disks")[0].GetProperty("path").GetString()!;
        Assert.NotEqual(disk, copy);
        Assert.Equal(0x11, ReadSector(copy));
        Assert.Equal(0x22, ReadSector(disk));
        using (var image = (Qcow2Image)DiskImage.Open(copy, "qcow2", readOnly: true))
        {
            Assert.Empty(image.ListSnapshots());
        }

        Assert.Empty((await api.Unix.GetFromJsonAsync<JsonElement>("api/vms/beta/snapshots")).EnumerateArray());
        var missing = await Problem(await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "gamma", snapshot = "nope" }), HttpStatusCode.NotFound);
        Assert.Equal("VM 'alpha' has no snapshot named 'nope'", missing.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await api.Unix.GetAsync("api/vms/gamma")).StatusCode);
    }

    [Fact]
    public async Task LinkedClonesOfASnapshotShareOneBaseThatTheSnapshotKeepsUntilTheyAreGone()
    {
        await using var api = await RunningApi.StartAsync();
        string disk = await CreateVm(api, "alpha");
        WriteSector(disk, 0x11);
        Assert.Equal(HttpStatusCode.Created, (await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name = "s1" })).StatusCode);
        WriteSector(disk, 0x22);

        string Overlay(JsonElement clone) => clone.GetProperty("definition").GetProperty("disks")[0].GetProperty("path").GetString()!;
        var gamma = await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "gamma", snapshot = "s1", linked = true });
        Assert.Equal(HttpStatusCode.Created, gamma.StatusCode);
        var delta = await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "delta", snapshot = "s1", linked = true });
        Assert.Equal(HttpStatusCode.Created, delta.StatusCode);
        string gammaDisk = Overlay(await gamma.Content.ReadFromJsonAsync<JsonElement>());
        string deltaDisk = Overlay(await delta.Content.ReadFromJsonAsync<JsonElement>());

        // Both are overlays on the one image of s1; they read the snapshot's data, and their writes stay their own.
        string bases = Path.Combine(api.StateDirectory, "vms", "alpha", "snapshot-bases", "s1");
        string image = Path.Combine(bases, "0.qcow2");
        Assert.Equal([image], Directory.GetFiles(bases));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead, File.GetUnixFileMode(image));
        Assert.Equal(image, DiskImageInspector.Inspect(gammaDisk).BackingFile);
        Assert.Equal(image, DiskImageInspector.Inspect(deltaDisk).BackingFile);
        Assert.Equal(0x11, ReadSector(gammaDisk));
        WriteSector(gammaDisk, 0x33);
        Assert.Equal(0x33, ReadSector(gammaDisk));
        Assert.Equal(0x11, ReadSector(deltaDisk));
        Assert.Equal(0x22, ReadSector(disk));
        using (var based = (Qcow2Image)DiskImage.Open(image, "qcow2", readOnly: true))
        {
            Assert.Empty(based.ListSnapshots()); // the source's history stays with the source
        }

        // Neither the snapshot nor the source VM may go while the clones rest on it.
        var refused = await Problem(await api.Unix.DeleteAsync("api/vms/alpha/snapshots/s1"), HttpStatusCode.Conflict);
        Assert.Contains("linked clones 'delta', 'gamma'", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        refused = await Problem(await api.Unix.DeleteAsync("api/vms/alpha"), HttpStatusCode.Conflict);
        Assert.Contains("linked clones 'delta', 'gamma'", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(image));

        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/gamma")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/delta")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.Unix.DeleteAsync("api/vms/alpha/snapshots/s1")).StatusCode);
        Assert.False(Directory.Exists(bases));
    }

    [Fact]
    public async Task LinkedCloneOfASnapshotOfARawDiskRestsOnTheSnapshotsCopy()
    {
        await using var api = await RunningApi.StartAsync();
        await CreateVm(api, "alpha", "raw");
        Assert.Equal(HttpStatusCode.Created, (await api.Unix.PostAsJsonAsync("api/vms/alpha/snapshots", new { name = "s1" })).StatusCode);

        var clone = await api.Unix.PostAsJsonAsync("api/vms/alpha/clone", new { name = "beta", snapshot = "s1", linked = true });
        Assert.Equal(HttpStatusCode.Created, clone.StatusCode);
        string overlay = (await clone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("definition").GetProperty("disks")[0].GetProperty("path").GetString()!;
        var info = DiskImageInspector.Inspect(overlay);
        Assert.Equal(Path.Combine(api.StateDirectory, "vms", "alpha", "snapshots", "s1.disks", "0.img"), info.BackingFile);
        await Problem(await api.Unix.DeleteAsync("api/vms/alpha/snapshots/s1"), HttpStatusCode.Conflict);
    }
}
