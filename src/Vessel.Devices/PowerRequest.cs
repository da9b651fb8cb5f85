namespace Vessel.Devices;

/// <summary>A guest's request to power off (with an exit code; non-zero for a failure) or reset.</summary>
public readonly record struct PowerRequest(PowerRequestKind Kind, int ExitCode);
