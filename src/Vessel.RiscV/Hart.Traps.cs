namespace Vessel.RiscV;

/// <summary>Traps: exceptions, interrupts, delegation and the xRET instructions (privileged spec 3.1.6–3.1.9, 3.3.2).</summary>
public sealed unsafe partial class Hart
{
    private const ulong InterruptFlag = 1UL << 63;

    // Privileged spec 3.1.9: MEI, MSI, MTI, SEI, SSI, STI in decreasing priority.
    private static readonly int[] InterruptPriority = [11, 3, 7, 9, 1, 5];

    /// <summary>Number of traps taken, for statistics.</summary>
    public ulong TrapsTaken { get; private set; }

    /// <summary>
    /// Takes a synchronous exception at <see cref="Pc"/>: a value, never a C# exception. Delegated to S-mode
    /// when medeleg says so and the hart is not in M-mode.
    /// </summary>
    public void RaiseException(TrapCause cause, ulong tval)
    {
        TakeTrap((ulong)cause, tval, interrupt: false);
    }

    /// <summary>
    /// Set when an exception's handler is the faulting instruction itself (for instance firmware that never set
    /// mtvec): the hart can never make progress, so the machine should stop with this message instead of spinning.
    /// </summary>
    public string? FatalTrap { get; private set; }

    private void TakeTrap(ulong code, ulong tval, bool interrupt)
    {
        TrapsTaken++;
        ulong faultingPc = Pc;
        _reservationValid = false;
        ulong deleg = interrupt ? _mideleg : _medeleg;
        ulong cause = interrupt ? code | InterruptFlag : code;
        ulong s = _mstatus;
        if (Privilege != PrivilegeLevel.Machine && ((deleg >> (int)code) & 1) != 0)
        {
            _sepc = Pc;
            _scause = cause;
            _stval = tval;
            s = (s & ~StatusBits.Spie) | ((s & StatusBits.Sie) != 0 ? StatusBits.Spie : 0);
            s = (s & ~StatusBits.Spp) | (Privilege == PrivilegeLevel.Supervisor ? StatusBits.Spp : 0);
            s &= ~StatusBits.Sie;
            _mstatus = s;
            Pc = TrapTarget(_stvec, code, interrupt);
            SetPrivilege(PrivilegeLevel.Supervisor);
        }
        else
        {
            _mepc = Pc;
            _mcause = cause;
            _mtval = tval;
            s = (s & ~StatusBits.Mpie) | ((s & StatusBits.Mie) != 0 ? StatusBits.Mpie : 0);
            s = (s & ~StatusBits.Mpp) | ((ulong)Privilege << StatusBits.MppShift);
            s &= ~StatusBits.Mie;
            _mstatus = s;
            Pc = TrapTarget(_mtvec, code, interrupt);
            SetPrivilege(PrivilegeLevel.Machine);
        }

        if (!interrupt && Pc == faultingPc && FatalTrap is null)
        {
            FatalTrap = $"hart {HartId}: exception {(TrapCause)code} at pc 0x{faultingPc:x} (tval 0x{tval:x}) traps to itself; the guest cannot continue";
            Stop();
        }
    }

    private static ulong TrapTarget(ulong tvec, ulong code, bool interrupt)
    {
        ulong baseAddress = tvec & ~3UL;
        // Vectored mode sends interrupts to BASE + 4 * cause (3.1.7).
        return interrupt && (tvec & 3) == 1 ? baseAddress + (4 * code) : baseAddress;
    }

    /// <summary>True once the hart has run in U-mode (for "time to first user process").</summary>
    public bool HasEnteredUserMode { get; private set; }

    private void SetPrivilege(PrivilegeLevel level)
    {
        Privilege = level;
        if (level == PrivilegeLevel.User)
        {
            HasEnteredUserMode = true;
        }

        SelectDataTlb();
    }

    /// <summary>The highest-priority interrupt that is pending, enabled and not masked at this privilege, or -1.</summary>
    private int PendingInterrupt()
    {
        ulong pending = Mip & _mie;
        if (pending == 0)
        {
            return -1;
        }

        // 3.1.6.1: M-level interrupts are taken below M, or in M with MIE; S-level ones below S, or in S with SIE.
        ulong machine = pending & ~_mideleg;
        bool machineEnabled = Privilege != PrivilegeLevel.Machine || (_mstatus & StatusBits.Mie) != 0;
        ulong supervisor = pending & _mideleg;
        bool supervisorEnabled = Privilege == PrivilegeLevel.User ||
            (Privilege == PrivilegeLevel.Supervisor && (_mstatus & StatusBits.Sie) != 0);
        ulong enabled = (machineEnabled ? machine : 0) | (supervisorEnabled ? supervisor : 0);
        if (enabled == 0)
        {
            return -1;
        }

        foreach (int bit in InterruptPriority)
        {
            if ((enabled & (1UL << bit)) != 0)
            {
                return bit;
            }
        }

        return -1;
    }

    /// <summary>Takes a pending interrupt if there is one; true when it did.</summary>
    private bool TryTakeInterrupt()
    {
        int code = PendingInterrupt();
        if (code < 0)
        {
            return false;
        }

        TakeTrap((ulong)code, 0, interrupt: true);
        return true;
    }

    private void ExecuteMret()
    {
        ulong s = _mstatus;
        var previous = (PrivilegeLevel)((s & StatusBits.Mpp) >> StatusBits.MppShift);
        s = (s & ~StatusBits.Mie) | ((s & StatusBits.Mpie) != 0 ? StatusBits.Mie : 0);
        s |= StatusBits.Mpie;
        s &= ~StatusBits.Mpp; // MPP becomes U, the least-privileged mode
        if (previous != PrivilegeLevel.Machine)
        {
            s &= ~StatusBits.Mprv;
        }

        _mstatus = s;
        Pc = _mepc;
        SetPrivilege(previous);
    }

    private void ExecuteSret()
    {
        ulong s = _mstatus;
        var previous = (s & StatusBits.Spp) != 0 ? PrivilegeLevel.Supervisor : PrivilegeLevel.User;
        s = (s & ~StatusBits.Sie) | ((s & StatusBits.Spie) != 0 ? StatusBits.Sie : 0);
        s |= StatusBits.Spie;
        s &= ~StatusBits.Spp;
        s &= ~StatusBits.Mprv; // the new mode is never M
        _mstatus = s;
        Pc = _sepc;
        SetPrivilege(previous);
    }
}
