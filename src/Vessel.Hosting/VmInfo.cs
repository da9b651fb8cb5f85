namespace Vessel.Hosting;

/// <summary>A VM as the API shows it: its definition, where it is in its life and, when running, live numbers.</summary>
public sealed record VmInfo(
    VmDefinition Definition,
    string State,
    int? Pid,
    string ConsoleSocket,
    int Restarts,
    WorkerStatus? Stats);
