namespace Vessel.Hosting.Portability;

/// <summary><c>POST /api/vms/import</c>: the archive (absolute path on the supervisor's host) and, optionally, a new name for the VM.</summary>
public sealed record VmImportRequest(string? Path, string? Name = null);
