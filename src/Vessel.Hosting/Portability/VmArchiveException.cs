namespace Vessel.Hosting.Portability;

/// <summary>A VM archive cannot be written or is not one Vessel will import (malformed, tampered, or from a newer Vessel).</summary>
public sealed class VmArchiveException(string message, Exception? inner = null) : Exception(message, inner);
