namespace Vessel.Hosting;

/// <summary>A live snapshot of a VM: machine state file + same-named qcow2 internal snapshots; <see cref="Parent"/> makes the tree.</summary>
public sealed record VmSnapshot(string Vm, string Name, string Description, DateTimeOffset Created, string? Parent, bool Current);
