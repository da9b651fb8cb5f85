using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Vessel.Hosting;

/// <summary>
/// Snapshot records in SQLite beside the VM definitions (vessel.db). The row is written last, after the state file
/// and disk snapshots exist, so a crash mid-snapshot leaves nothing listed. Each VM's current snapshot is the parent
/// of the next one, which makes the tree.
/// </summary>
public sealed class VmSnapshotStore : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();

    public VmSnapshotStore(string databasePath)
    {
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("CREATE TABLE IF NOT EXISTS snapshots (vm TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, created TEXT NOT NULL, parent TEXT, PRIMARY KEY (vm, name));");
        Execute("CREATE TABLE IF NOT EXISTS snapshot_current (vm TEXT PRIMARY KEY, name TEXT NOT NULL);");
    }

    public IReadOnlyList<VmSnapshot> List(string vm)
    {
        lock (_lock)
        {
            string? current = Current(vm);
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT name, description, created, parent FROM snapshots WHERE vm = $vm ORDER BY created, name;";
            cmd.Parameters.AddWithValue("$vm", vm);
            using var reader = cmd.ExecuteReader();
            var list = new List<VmSnapshot>();
            while (reader.Read())
            {
                string name = reader.GetString(0);
                list.Add(new VmSnapshot(vm, name, reader.GetString(1), DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
                    reader.IsDBNull(3) ? null : reader.GetString(3), name == current));
            }

            return list;
        }
    }

    public VmSnapshot? Find(string vm, string name) => List(vm).FirstOrDefault(s => s.Name == name);

    /// <summary>Adds the record and makes it current, in one transaction.</summary>
    public VmSnapshot Add(string vm, string name, string description)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            string? parent = Current(vm);
            var created = DateTimeOffset.UtcNow;
            using (var cmd = _db.CreateCommand())
            {
                cmd.CommandText = "INSERT INTO snapshots (vm, name, description, created, parent) VALUES ($vm, $name, $description, $created, $parent);";
                cmd.Parameters.AddWithValue("$vm", vm);
                cmd.Parameters.AddWithValue("$name", name);
                cmd.Parameters.AddWithValue("$description", description);
                cmd.Parameters.AddWithValue("$created", created.ToString("O", CultureInfo.InvariantCulture));
                cmd.Parameters.AddWithValue("$parent", (object?)parent ?? DBNull.Value);
                try
                {
                    cmd.ExecuteNonQuery();
                }
                catch (SqliteException e) when (e.SqliteErrorCode == 19)
                {
                    throw new VmConflictException($"VM '{vm}' already has a snapshot named '{name}'");
                }
            }

            SetCurrentLocked(vm, name);
            tx.Commit();
            return new VmSnapshot(vm, name, description, created, parent, true);
        }
    }

    public void SetCurrent(string vm, string name)
    {
        lock (_lock)
        {
            SetCurrentLocked(vm, name);
        }
    }

    /// <summary>Removes the record; its children are re-parented to its parent so the tree stays connected.</summary>
    public void Remove(string vm, string name)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            string? parent = null;
            using (var find = _db.CreateCommand())
            {
                find.CommandText = "SELECT parent FROM snapshots WHERE vm = $vm AND name = $name;";
                find.Parameters.AddWithValue("$vm", vm);
                find.Parameters.AddWithValue("$name", name);
                parent = find.ExecuteScalar() as string;
            }

            Run("UPDATE snapshots SET parent = $parent WHERE vm = $vm AND parent = $name;", vm, name, parent);
            Run("DELETE FROM snapshots WHERE vm = $vm AND name = $name;", vm, name, parent);
            if (parent is null)
            {
                Run("DELETE FROM snapshot_current WHERE vm = $vm AND name = $name;", vm, name, parent);
            }
            else
            {
                Run("UPDATE snapshot_current SET name = $parent WHERE vm = $vm AND name = $name;", vm, name, parent);
            }

            tx.Commit();
        }
    }

    private void Run(string sql, string vm, string name, string? parent)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$vm", vm);
        cmd.Parameters.AddWithValue("$name", name);
        cmd.Parameters.AddWithValue("$parent", (object?)parent ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    }

    private string? Current(string vm)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT name FROM snapshot_current WHERE vm = $vm;";
        cmd.Parameters.AddWithValue("$vm", vm);
        return cmd.ExecuteScalar() as string;
    }

    private void SetCurrentLocked(string vm, string name)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "INSERT INTO snapshot_current (vm, name) VALUES ($vm, $name) ON CONFLICT(vm) DO UPDATE SET name = $name;";
        cmd.Parameters.AddWithValue("$vm", vm);
        cmd.Parameters.AddWithValue("$name", name);
        cmd.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _db.Dispose();
}
