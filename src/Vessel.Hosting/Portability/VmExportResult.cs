namespace Vessel.Hosting.Portability;

/// <summary>What export wrote: the archive's path and size, and how many disks it holds.</summary>
public sealed record VmExportResult(string Path, long Size, int Disks);
