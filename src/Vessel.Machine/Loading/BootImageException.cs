namespace Vessel.Machine.Loading;

/// <summary>A firmware, kernel or initrd that cannot be booted; the message names the file and the problem.</summary>
public sealed class BootImageException(string message) : Exception(message);
