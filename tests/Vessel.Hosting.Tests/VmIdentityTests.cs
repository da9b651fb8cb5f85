using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Vessel.Hosting.Tests;

/// <summary>A VM's guest identity: hostname from its name, a per-VM machine id kept in the definition.</summary>
public sealed class VmIdentityTests : IDisposable
{
    private readonly string _db = Path.Combine(Path.GetTempPath(), "vessel-ident-" + Guid.NewGuid().ToString("N")[..12] + ".db");

    [Theory]
    [InlineData("web", "web")]
    [InlineData("web-1", "web-1")]
    [InlineData("db.prod", "db-prod")]
    [InlineData("a_b", "a-b")]
    [InlineData("node.", "node")]
    [InlineData("x__", "x")]
    public void HostnameFor_MapsVmNamesToRfc1123Labels(string vmName, string hostname) =>
        Assert.Equal(hostname, VmIdentity.HostnameFor(vmName));

    [Fact]
    public void NewMachineId_Is32LowerHexAndDiffersEachTime()
    {
        string a = VmIdentity.NewMachineId(), b = VmIdentity.NewMachineId();
        Assert.Matches("^[0-9a-f]{32}$", a);
        Assert.True(VmIdentity.IsMachineId(a));
        Assert.NotEqual(a, b);
        Assert.False(VmIdentity.IsMachineId(new string('0', 32)));
        Assert.False(VmIdentity.IsMachineId("ABCDEF0123456789ABCDEF0123456789"));
        Assert.False(VmIdentity.IsMachineId(null));
    }

    [Fact]
    public void KitCommandLine_NamesTheGuest()
    {
        var definition = new VmDefinition { Name = "db.prod", MachineId = "0123456789abcdef0123456789abcdef", Nics = ["user"] };
        string line = VmWorker.KitCommandLine(definition);
        Assert.Equal("console=ttyS0 vessel.agent=1 vessel.hostname=db-prod vessel.machine_id=0123456789abcdef0123456789abcdef vessel.dhcp=1", line);
    }

    [Fact]
    public void Validator_GivesEachNewVmItsOwnMachineId()
    {
        var validator = new VmDefinitionValidator(HostCapacity.Detect());
        var a = validator.Validate(new VmCreateRequest { Name = "one" });
        var b = validator.Validate(new VmCreateRequest { Name = "two" });
        Assert.True(VmIdentity.IsMachineId(a.MachineId));
        Assert.NotEqual(a.MachineId, b.MachineId);
    }

    [Fact]
    public void RegistryRowWithoutMachineId_GetsOneThatIsPersisted()
    {
        using (var connection = new SqliteConnection($"Data Source={_db};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // A row as the registry wrote it before VMs had a machine id: the same JSON without that key.
            var json = JsonSerializer.SerializeToNode(new VmDefinition { Name = "old", Cpus = 2 }, new JsonSerializerOptions(JsonSerializerDefaults.Web))!.AsObject();
            Assert.True(json.Remove("machineId"));
            command.CommandText = "CREATE TABLE vms (name TEXT PRIMARY KEY, definition TEXT NOT NULL); INSERT INTO vms VALUES ('old', $json);";
            command.Parameters.AddWithValue("$json", json.ToJsonString());
            command.ExecuteNonQuery();
        }

        string? first;
        using (var registry = new VmRegistry(_db))
        {
            first = registry.Get("old").MachineId;
            Assert.True(VmIdentity.IsMachineId(first));
            Assert.Equal(first, Assert.Single(registry.List()).MachineId);
            Assert.Equal(2, registry.Get("old").Cpus);
        }

        using var reopened = new VmRegistry(_db);
        Assert.Equal(first, reopened.Get("old").MachineId);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (string file in new[] { _db, _db + "-wal", _db + "-shm" })
        {
            File.Delete(file);
        }
    }
}
