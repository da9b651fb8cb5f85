namespace Vessel.Hosting;

/// <summary>A disk in a VM definition: an image file (absolute path), its format (null: detect) and read-only flag.</summary>
public sealed record VmDisk(string Path, string? Format = null, bool ReadOnly = false);
