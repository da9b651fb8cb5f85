using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Vessel.Hosting;

/// <summary>
/// VM definitions and their event history in SQLite (<c>&lt;state-dir&gt;/vessel.db</c>). SQLite commits are atomic
/// and durable, so a supervisor crash never loses a definition it acknowledged (DESIGN.md §5-§6).
/// </summary>
public sealed class VmRegistry : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public VmRegistry(string databasePath)
    {
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("CREATE TABLE IF NOT EXISTS vms (name TEXT PRIMARY KEY, definition TEXT NOT NULL);");
        Execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, vm TEXT NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);");
        Execute("CREATE INDEX IF NOT EXISTS events_vm ON events (vm, id);");
    }

    /// <summary>Stores a new definition; a duplicate name is a <see cref="VmConflictException"/>.</summary>
    public void Add(VmDefinition definition)
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "INSERT INTO vms (name, definition) VALUES ($name, $definition);";
            command.Parameters.AddWithValue("$name", definition.Name);
            command.Parameters.AddWithValue("$definition", JsonSerializer.Serialize(definition, Json));
            try
            {
                command.ExecuteNonQuery();
            }
            catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: the primary key
            {
                throw new VmConflictException($"a VM named '{definition.Name}' already exists");
            }
        }
    }

    public VmDefinition? Find(string name)
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "SELECT definition FROM vms WHERE name = $name;";
            command.Parameters.AddWithValue("$name", name);
            return command.ExecuteScalar() is string json ? Read(json) : null;
        }
    }

    public VmDefinition Get(string name) => Find(name) ?? throw new VmNotFoundException(name);

    public IReadOnlyList<VmDefinition> List()
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "SELECT definition FROM vms ORDER BY name;";
            using var reader = command.ExecuteReader();
            var rows = new List<string>();
            while (reader.Read())
            {
                rows.Add(reader.GetString(0));
            }

            reader.Close();
            return [.. rows.Select(Read)];
        }
    }

    /// <summary>
    /// Parses a stored definition. Rows written before VMs had a machine id get one here, stored at once so every
    /// later read (a restart, a revert) sees the same id.
    /// </summary>
    private VmDefinition Read(string json)
    {
        var definition = JsonSerializer.Deserialize<VmDefinition>(json, Json)
            ?? throw new InvalidDataException("the registry holds an empty VM definition");
        if (VmIdentity.IsMachineId(definition.MachineId))
        {
            return definition;
        }

        definition = definition with { MachineId = VmIdentity.NewMachineId() };
        using var update = _db.CreateCommand();
        update.CommandText = "UPDATE vms SET definition = $definition WHERE name = $name;";
        update.Parameters.AddWithValue("$name", definition.Name);
        update.Parameters.AddWithValue("$definition", JsonSerializer.Serialize(definition, Json));
        update.ExecuteNonQuery();
        return definition;
    }

    /// <summary>Removes a definition; its history stays (a deleted VM's events remain readable).</summary>
    public void Remove(string name)
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "DELETE FROM vms WHERE name = $name;";
            command.Parameters.AddWithValue("$name", name);
            if (command.ExecuteNonQuery() == 0)
            {
                throw new VmNotFoundException(name);
            }
        }
    }

    public VmEvent Record(string vm, string kind, string message)
    {
        var time = DateTimeOffset.UtcNow;
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "INSERT INTO events (vm, time, kind, message) VALUES ($vm, $time, $kind, $message); SELECT last_insert_rowid();";
            command.Parameters.AddWithValue("$vm", vm);
            command.Parameters.AddWithValue("$time", time.ToString("O"));
            command.Parameters.AddWithValue("$kind", kind);
            command.Parameters.AddWithValue("$message", message);
            long id = (long)command.ExecuteScalar()!;
            return new VmEvent(id, vm, time, kind, message);
        }
    }

    /// <summary>The newest <paramref name="limit"/> events of a VM, oldest first.</summary>
    public IReadOnlyList<VmEvent> Events(string vm, int limit = 1000)
    {
        lock (_lock)
        {
            using var command = _db.CreateCommand();
            command.CommandText = "SELECT id, vm, time, kind, message FROM (SELECT * FROM events WHERE vm = $vm ORDER BY id DESC LIMIT $limit) ORDER BY id;";
            command.Parameters.AddWithValue("$vm", vm);
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            var result = new List<VmEvent>();
            while (reader.Read())
            {
                result.Add(new VmEvent(reader.GetInt64(0), reader.GetString(1), DateTimeOffset.Parse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture), reader.GetString(3), reader.GetString(4)));
            }

            return result;
        }
    }

    private void Execute(string sql)
    {
        using var command = _db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _db.Dispose();
}
