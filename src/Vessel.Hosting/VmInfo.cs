namespace Vessel.Hosting;

/// <summary>
/// A VM as the API shows it: its definition, where it is in its life and, when running, live numbers.
/// <see cref="Paused"/> is true while a running VM's harts are parked by <c>vm pause</c> (its state stays running:
/// the worker, console and snapshots are all still there).
/// </summary>
public sealed record VmInfo(
    VmDefinition Definition,
    string State,
    int? Pid,
    string ConsoleSocket,
    int Restarts,
    WorkerStatus? Stats,
    bool Paused = false);
