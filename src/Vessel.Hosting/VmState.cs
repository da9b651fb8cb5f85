namespace Vessel.Hosting;

/// <summary>Where a VM's worker is in its life, as the supervisor sees it.</summary>
public enum VmState
{
    Stopped,
    Starting,
    Running,
    Stopping,
    Crashed,
    Failed,
}
