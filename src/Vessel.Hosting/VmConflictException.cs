namespace Vessel.Hosting;

/// <summary>The request clashes with the VM's current state or another VM (duplicate name, already running, ...).</summary>
public sealed class VmConflictException(string message) : Exception(message);
