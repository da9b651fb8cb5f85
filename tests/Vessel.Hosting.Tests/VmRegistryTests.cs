using Vessel.Hosting;

namespace Vessel.Hosting.Tests;

/// <summary>The SQLite registry keeps definitions and history across a reopen (a supervisor restart).</summary>
public sealed class VmRegistryTests : IDisposable
{
    private readonly string _db = Path.Combine(Path.GetTempPath(), "vessel-reg-" + Guid.NewGuid().ToString("N")[..12] + ".db");

    [Fact]
    public void DefinitionsAndEventsSurviveAReopen()
    {
        using (var registry = new VmRegistry(_db))
        {
            registry.Add(new VmDefinition { Name = "keep", Cpus = 3, MemoryBytes = 64UL << 20, Disks = [new VmDisk("/tmp/d.qcow2", "qcow2", true)], RestartPolicy = RestartPolicy.Always });
            registry.Record("keep", "created", "first");
            registry.Record("keep", "started", "second");
            Assert.Throws<VmConflictException>(() => registry.Add(new VmDefinition { Name = "keep" }));
        }

        using var reopened = new VmRegistry(_db);
        var definition = reopened.Get("keep");
        Assert.Equal(3, definition.Cpus);
        Assert.Equal(RestartPolicy.Always, definition.RestartPolicy);
        Assert.Equal(new VmDisk("/tmp/d.qcow2", "qcow2", true), Assert.Single(definition.Disks));
        Assert.Equal(["created", "started"], reopened.Events("keep").Select(e => e.Kind).ToArray());
        Assert.Equal(["started"], reopened.Events("keep", limit: 1).Select(e => e.Kind).ToArray());
        reopened.Remove("keep");
        Assert.Throws<VmNotFoundException>(() => reopened.Get("keep"));
        Assert.Throws<VmNotFoundException>(() => reopened.Remove("keep"));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (string file in new[] { _db, _db + "-wal", _db + "-shm" })
        {
            File.Delete(file);
        }
    }
}
