namespace Vessel.Machine.Abstractions.State;

/// <summary>A machine-state file or section that cannot be loaded: truncated, corrupt, or from another version.</summary>
public sealed class MachineStateException(string message) : Exception(message);
