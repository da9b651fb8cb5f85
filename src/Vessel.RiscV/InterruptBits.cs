namespace Vessel.RiscV;

/// <summary>Privileged spec 3.1.9: bit positions in mip/mie (and the interrupt cause numbers).</summary>
public static class InterruptBits
{
    public const ulong SupervisorSoftware = 1UL << 1;
    public const ulong MachineSoftware = 1UL << 3;
    public const ulong SupervisorTimer = 1UL << 5;
    public const ulong MachineTimer = 1UL << 7;
    public const ulong SupervisorExternal = 1UL << 9;
    public const ulong MachineExternal = 1UL << 11;

    public const ulong SupervisorMask = SupervisorSoftware | SupervisorTimer | SupervisorExternal;
    public const ulong All = SupervisorMask | MachineSoftware | MachineTimer | MachineExternal;
}
