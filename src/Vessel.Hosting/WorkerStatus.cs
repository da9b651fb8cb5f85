namespace Vessel.Hosting;

/// <summary>A running worker's answer to <c>status</c> on its control socket.</summary>
public sealed record WorkerStatus(int Pid, string Vm, double UptimeSeconds, ulong InstructionsRetired, int Boots, bool Paused = false);
