namespace Vessel.Hosting.Portability;

/// <summary><c>POST /api/vms/{name}/export</c>: the archive file to write, an absolute path on the supervisor's host.</summary>
public sealed record VmExportRequest(string? Path);
