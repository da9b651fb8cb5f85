namespace Vessel.Hosting;

/// <summary>
/// What a worker writes to <see cref="VmPaths.ExitFile"/> as it ends on its own terms. A worker that is gone without
/// one was killed or crashed.
/// </summary>
public sealed record WorkerExit(string Reason, int ExitCode, string? Failure);
