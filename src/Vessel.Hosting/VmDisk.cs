using Vessel.Devices.RateLimiting;

namespace Vessel.Hosting;

/// <summary>A disk in a VM definition: an image file (absolute path), its format (null: detect), read-only flag and I/O limit.</summary>
public sealed record VmDisk(string Path, string? Format = null, bool ReadOnly = false, IoRateLimit? RateLimit = null);
