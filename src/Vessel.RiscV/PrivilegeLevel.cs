namespace Vessel.RiscV;

/// <summary>Privileged spec 1.2: the encoding of privilege levels in mstatus.MPP and friends.</summary>
public enum PrivilegeLevel : byte
{
    User = 0,
    Supervisor = 1,
    Machine = 3,
}
