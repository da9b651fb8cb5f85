namespace Vessel.Hosting.Portability;

/// <summary><c>POST /api/vms/{name}/clone</c>: the new VM's name, and whether its disks are qcow2 overlays on the source's (linked) or copies (full).</summary>
public sealed record VmCloneRequest(string? Name, bool Linked = false);
