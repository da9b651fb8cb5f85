namespace Vessel.Hosting;

/// <summary>One entry of a VM's history (created, starting, started, stopped, crashed, restarting, ...).</summary>
public sealed record VmEvent(long Id, string Vm, DateTimeOffset Time, string Kind, string Message);
