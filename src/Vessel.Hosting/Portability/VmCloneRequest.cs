namespace Vessel.Hosting.Portability;

/// <summary>
/// <c>POST /api/vms/{name}/clone</c>: the new VM's name, whether its disks are qcow2 overlays on the source's (linked)
/// or copies (full), and optionally the snapshot whose disk state the copies start from.
/// </summary>
public sealed record VmCloneRequest(string? Name, bool Linked = false, string? Snapshot = null);
