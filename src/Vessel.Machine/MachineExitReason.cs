namespace Vessel.Machine;

/// <summary>How a machine run ended.</summary>
public enum MachineExitReason
{
    PowerOff,
    Reset,
    Stopped,
    Failed,
}
