namespace Vessel.RiscV;

/// <summary>Control and status registers (privileged spec ch. 2, 3 and 10; Zicsr; Zicntr).</summary>
public sealed unsafe partial class Hart
{
    /// <summary>misa: RV64 (MXL=2) with I, M, A, F, D, C, S, U. Read-only here (WARL), so C cannot be turned off.</summary>
    public const ulong MisaValue = (2UL << 62) | (1UL << 0) | (1UL << 2) | (1UL << 3) | (1UL << 5) | (1UL << 8) | (1UL << 12) | (1UL << 18) | (1UL << 20);

    // medeleg: every synchronous exception except ecall from M-mode may be delegated (privileged spec 3.1.8).
    private const ulong DelegableExceptions = 0xB3FF;
    private const ulong MenvcfgWritable = (1UL << 63) | 0xF0; // STCE, CBZE/CBCFE/CBIE (stored, not used)

    private ulong _mstatus;
    private ulong _medeleg;
    private ulong _mideleg;
    private ulong _mie;
    private ulong _mipSoftware;  // bits written by software: SSIP, STIP, SEIP
    private ulong _mipHardware;  // bits driven by devices, updated atomically from other threads
    private ulong _mtvec;
    private ulong _stvec;
    private ulong _mepc;
    private ulong _sepc;
    private ulong _mcause;
    private ulong _scause;
    private ulong _mtval;
    private ulong _stval;
    private ulong _mscratch;
    private ulong _sscratch;
    private ulong _satp;
    private uint _mcounteren;
    private uint _scounteren;
    private uint _mcountinhibit;
    private ulong _menvcfg;
    private ulong _senvcfg;
    private ulong _stimecmp = ulong.MaxValue;
    private ulong _instret;
    private long _cycleOffset;
    private uint _fflags;
    private uint _frm;

    /// <summary>Sstc (stimecmp) is offered to the guest; OpenSBI enables it through menvcfg.STCE.</summary>
    public bool SstcEnabled => (_menvcfg & (1UL << 63)) != 0;

    public ulong Mstatus => _mstatus;

    /// <summary>The mtime value at which this hart's Sstc supervisor timer fires (ulong.MaxValue when off).</summary>
    public ulong SupervisorTimerDeadline => SstcEnabled ? _stimecmp : ulong.MaxValue;

    public ulong Satp => _satp;

    /// <summary>mip as software sees it: device lines ORed with software-set bits (privileged spec 3.1.9).</summary>
    public ulong Mip => Volatile.Read(ref _mipHardware) | _mipSoftware | SupervisorTimerPending();

    /// <summary>Sets interrupt-pending bits driven by a device (CLINT, PLIC); safe from any thread.</summary>
    public void RaiseInterrupt(ulong bits)
    {
        Interlocked.Or(ref _mipHardware, bits);
        Volatile.Write(ref _exitRequested, 1);
        WakeFromWfi();
    }

    /// <summary>Clears device-driven interrupt-pending bits; safe from any thread.</summary>
    public void ClearInterrupt(ulong bits) => Interlocked.And(ref _mipHardware, ~bits);

    private ulong SupervisorTimerPending() =>
        SstcEnabled && _clock.Now >= _stimecmp ? InterruptBits.SupervisorTimer : 0;

    private void ResetCsrs()
    {
        _mstatus = StatusBits.XlenFields;
        _medeleg = _mideleg = _mie = _mipSoftware = 0;
        _mtvec = _stvec = _mepc = _sepc = _mcause = _scause = _mtval = _stval = _mscratch = _sscratch = _satp = 0;
        _mcounteren = _scounteren = _mcountinhibit = 0;
        _menvcfg = _senvcfg = 0;
        _stimecmp = ulong.MaxValue;
        _instret = 0;
        _cycleOffset = 0;
        _fflags = _frm = 0;
        ResetPmp();
    }

    private bool FloatAccessible => (_mstatus & StatusBits.Fs) != 0;

    private bool CounterAccessible(int index)
    {
        // Privileged spec 3.1.11 / 10.1.5: mcounteren gates S and U; scounteren additionally gates U.
        uint bit = 1u << index;
        if (Privilege == PrivilegeLevel.Machine)
        {
            return true;
        }

        if ((_mcounteren & bit) == 0)
        {
            return false;
        }

        return Privilege == PrivilegeLevel.Supervisor || (_scounteren & bit) != 0;
    }

    private ulong Cycle => (ulong)((long)_instret + _cycleOffset);

    private bool ReadCsr(int csr, out ulong value)
    {
        value = 0;
        switch (csr)
        {
            case CsrAddress.Fflags:
                if (!FloatAccessible)
                {
                    return false;
                }

                value = _fflags;
                return true;
            case CsrAddress.Frm:
                if (!FloatAccessible)
                {
                    return false;
                }

                value = _frm;
                return true;
            case CsrAddress.Fcsr:
                if (!FloatAccessible)
                {
                    return false;
                }

                value = (_frm << 5) | _fflags;
                return true;
            case CsrAddress.Cycle:
                value = Cycle;
                return CounterAccessible(0);
            case CsrAddress.Time:
                value = _clock.Now;
                return CounterAccessible(1);
            case CsrAddress.Instret:
                value = _instret;
                return CounterAccessible(2);
            case >= CsrAddress.HpmCounter3 and <= CsrAddress.HpmCounter31:
                return CounterAccessible(csr - CsrAddress.Cycle);

            case CsrAddress.Sstatus:
                value = ReadMstatus() & StatusBits.SupervisorView;
                return true;
            case CsrAddress.Sie:
                value = _mie & _mideleg;
                return true;
            case CsrAddress.Stvec:
                value = _stvec;
                return true;
            case CsrAddress.Scounteren:
                value = _scounteren;
                return true;
            case CsrAddress.Senvcfg:
                value = _senvcfg;
                return true;
            case CsrAddress.Sscratch:
                value = _sscratch;
                return true;
            case CsrAddress.Sepc:
                value = _sepc;
                return true;
            case CsrAddress.Scause:
                value = _scause;
                return true;
            case CsrAddress.Stval:
                value = _stval;
                return true;
            case CsrAddress.Sip:
                value = Mip & _mideleg;
                return true;
            case CsrAddress.Stimecmp:
                // Sstc: M-mode always has it; S-mode only when menvcfg.STCE and mcounteren.TM allow it.
                if (Privilege != PrivilegeLevel.Machine && (!SstcEnabled || (_mcounteren & 2) == 0))
                {
                    return false;
                }

                value = _stimecmp;
                return true;
            case CsrAddress.Satp:
                // Privileged spec 3.1.6.5: TVM traps S-mode satp accesses.
                if (Privilege == PrivilegeLevel.Supervisor && (_mstatus & StatusBits.Tvm) != 0)
                {
                    return false;
                }

                value = _satp;
                return true;

            case CsrAddress.Mvendorid:
            case CsrAddress.Marchid:
            case CsrAddress.Mimpid:
            case CsrAddress.Mconfigptr:
                return true;
            case CsrAddress.Mhartid:
                value = (ulong)HartId;
                return true;
            case CsrAddress.Mstatus:
                value = ReadMstatus();
                return true;
            case CsrAddress.Misa:
                value = MisaValue;
                return true;
            case CsrAddress.Medeleg:
                value = _medeleg;
                return true;
            case CsrAddress.Mideleg:
                value = _mideleg;
                return true;
            case CsrAddress.Mie:
                value = _mie;
                return true;
            case CsrAddress.Mtvec:
                value = _mtvec;
                return true;
            case CsrAddress.Mcounteren:
                value = _mcounteren;
                return true;
            case CsrAddress.Menvcfg:
                value = _menvcfg;
                return true;
            case CsrAddress.Mcountinhibit:
                value = _mcountinhibit;
                return true;
            case >= CsrAddress.MhpmEvent3 and <= CsrAddress.MhpmEvent31:
                return true;
            case CsrAddress.Mscratch:
                value = _mscratch;
                return true;
            case CsrAddress.Mepc:
                value = _mepc;
                return true;
            case CsrAddress.Mcause:
                value = _mcause;
                return true;
            case CsrAddress.Mtval:
                value = _mtval;
                return true;
            case CsrAddress.Mip:
                value = Mip;
                return true;
            case >= CsrAddress.PmpCfg0 and <= CsrAddress.PmpCfg15:
                return ReadPmpConfig(csr - CsrAddress.PmpCfg0, out value);
            case >= CsrAddress.PmpAddr0 and <= CsrAddress.PmpAddr63:
                value = ReadPmpAddress(csr - CsrAddress.PmpAddr0);
                return true;
            case >= CsrAddress.Tselect and <= CsrAddress.Tcontrol:
                // Debug spec 5.7: one trigger slot whose tdata1.type is 0 ("no trigger"); tinfo says only
                // type 0 exists. Software that probes for triggers finds none, and nothing traps.
                value = csr == CsrAddress.Tinfo ? 1UL : 0UL;
                return true;
            case CsrAddress.Mcycle:
                value = Cycle;
                return true;
            case CsrAddress.Minstret:
                value = _instret;
                return true;
            case >= CsrAddress.MhpmCounter3 and <= CsrAddress.MhpmCounter31:
                return true;
            default:
                return false;
        }
    }

    private ulong ReadMstatus()
    {
        ulong s = _mstatus;
        // SD summarises FS/XS/VS dirty (privileged spec 3.1.6.6).
        if ((s & StatusBits.Fs) == StatusBits.FsDirty)
        {
            s |= StatusBits.Sd;
        }

        return s;
    }

    private bool WriteCsr(int csr, ulong value)
    {
        switch (csr)
        {
            case CsrAddress.Fflags:
                _fflags = (uint)value & 0x1F;
                MarkFloatDirty();
                return true;
            case CsrAddress.Frm:
                _frm = (uint)value & 7;
                MarkFloatDirty();
                return true;
            case CsrAddress.Fcsr:
                _fflags = (uint)value & 0x1F;
                _frm = (uint)(value >> 5) & 7;
                MarkFloatDirty();
                return true;

            case CsrAddress.Sstatus:
                WriteMstatus((_mstatus & ~StatusBits.SupervisorWritable) | (value & StatusBits.SupervisorWritable));
                return true;
            case CsrAddress.Sie:
                _mie = (_mie & ~_mideleg) | (value & _mideleg);
                return true;
            case CsrAddress.Stvec:
                _stvec = LegalTrapVector(value, _stvec);
                return true;
            case CsrAddress.Scounteren:
                _scounteren = (uint)value;
                return true;
            case CsrAddress.Senvcfg:
                _senvcfg = value & 0xF0;
                return true;
            case CsrAddress.Sscratch:
                _sscratch = value;
                return true;
            case CsrAddress.Sepc:
                _sepc = value & ~1UL;
                return true;
            case CsrAddress.Scause:
                _scause = value;
                return true;
            case CsrAddress.Stval:
                _stval = value;
                return true;
            case CsrAddress.Sip:
                // Only SSIP is writable through sip, and only when delegated (privileged spec 10.1.3).
                ulong mask = InterruptBits.SupervisorSoftware & _mideleg;
                _mipSoftware = (_mipSoftware & ~mask) | (value & mask);
                return true;
            case CsrAddress.Stimecmp:
                _stimecmp = value;
                return true;
            case CsrAddress.Satp:
                WriteSatp(value);
                return true;

            case CsrAddress.Mstatus:
                WriteMstatus((_mstatus & ~StatusBits.MachineWritable) | (value & StatusBits.MachineWritable));
                return true;
            case CsrAddress.Misa:
                return true; // WARL, read-only here
            case CsrAddress.Medeleg:
                _medeleg = value & DelegableExceptions;
                return true;
            case CsrAddress.Mideleg:
                _mideleg = value & InterruptBits.SupervisorMask;
                return true;
            case CsrAddress.Mie:
                _mie = value & InterruptBits.All;
                return true;
            case CsrAddress.Mtvec:
                _mtvec = LegalTrapVector(value, _mtvec);
                return true;
            case CsrAddress.Mcounteren:
                _mcounteren = (uint)value;
                return true;
            case CsrAddress.Menvcfg:
                _menvcfg = value & MenvcfgWritable;
                return true;
            case CsrAddress.Mcountinhibit:
                _mcountinhibit = (uint)value & ~2u; // bit 1 (TM) is read-only zero
                return true;
            case >= CsrAddress.MhpmEvent3 and <= CsrAddress.MhpmEvent31:
                return true;
            case CsrAddress.Mscratch:
                _mscratch = value;
                return true;
            case CsrAddress.Mepc:
                _mepc = value & ~1UL;
                return true;
            case CsrAddress.Mcause:
                _mcause = value;
                return true;
            case CsrAddress.Mtval:
                _mtval = value;
                return true;
            case CsrAddress.Mip:
                // SSIP, STIP and SEIP are writable by M-mode software; MSIP/MTIP/MEIP come from devices.
                const ulong writable = InterruptBits.SupervisorMask;
                _mipSoftware = (_mipSoftware & ~writable) | (value & writable);
                return true;
            case >= CsrAddress.PmpCfg0 and <= CsrAddress.PmpCfg15:
                return WritePmpConfig(csr - CsrAddress.PmpCfg0, value);
            case >= CsrAddress.PmpAddr0 and <= CsrAddress.PmpAddr63:
                WritePmpAddress(csr - CsrAddress.PmpAddr0, value);
                return true;
            case >= CsrAddress.Tselect and <= CsrAddress.Tcontrol:
                return true; // WARL: the only legal values are the ones read above
            case CsrAddress.Mcycle:
                // The instruction that writes the counter does not also increment it (privileged spec 3.1.10),
                // and the retire loop increments after this, so subtract one.
                _cycleOffset = (long)(value - _instret - 1);
                return true;
            case CsrAddress.Minstret:
                // Keep mcycle where it was while minstret jumps.
                _cycleOffset += (long)(_instret - (value - 1));
                _instret = value - 1;
                return true;
            case >= CsrAddress.MhpmCounter3 and <= CsrAddress.MhpmCounter31:
                return true;
            default:
                return false;
        }
    }

    private static ulong LegalTrapVector(ulong value, ulong old)
    {
        // Privileged spec 3.1.7: MODE 0 direct, 1 vectored, >= 2 reserved (keep the old value).
        return (value & 3) >= 2 ? old : value;
    }

    private void WriteMstatus(ulong value)
    {
        ulong old = _mstatus;
        // MPP is WARL: 2 (reserved) is not a legal value; keep the old field.
        if (((value & StatusBits.Mpp) >> StatusBits.MppShift) == 2)
        {
            value = (value & ~StatusBits.Mpp) | (old & StatusBits.Mpp);
        }

        _mstatus = (value & ~(StatusBits.Sd | StatusBits.Uxl | StatusBits.Sxl)) | StatusBits.XlenFields;
        ulong changed = old ^ _mstatus;
        if ((changed & (StatusBits.Sum | StatusBits.Mxr)) != 0)
        {
            FlushTlb();
        }

        if ((changed & (StatusBits.Mprv | StatusBits.Mpp)) != 0)
        {
            SelectDataTlb();
        }
    }

    private void WriteSatp(ulong value)
    {
        // Privileged spec 4.1.11: a write with an unsupported MODE has no effect.
        ulong mode = value >> 60;
        if (mode != 0 && mode != 8 && mode != 9)
        {
            return;
        }

        // ASID is 16 bits wide and PPN 44 bits.
        _satp = value & ((0xFUL << 60) | (0xFFFFUL << 44) | ((1UL << 44) - 1));
        FlushTlb();
    }

    private void MarkFloatDirty() => _mstatus |= StatusBits.FsDirty;

    /// <summary>Reads a CSR without privilege checks, for debuggers, tests and state dumps. False if it does not exist.</summary>
    public bool TryReadCsr(int csr, out ulong value)
    {
        switch (csr)
        {
            case CsrAddress.Fflags:
                value = _fflags;
                return true;
            case CsrAddress.Frm:
                value = _frm;
                return true;
            case CsrAddress.Fcsr:
                value = (_frm << 5) | _fflags;
                return true;
        }

        var saved = Privilege;
        Privilege = PrivilegeLevel.Machine;
        bool ok = ReadCsr(csr, out value);
        Privilege = saved;
        return ok;
    }

    /// <summary>Writes a CSR without privilege checks (state restore, debuggers, tests). False if it does not exist.</summary>
    public bool TryWriteCsr(int csr, ulong value)
    {
        var saved = Privilege;
        Privilege = PrivilegeLevel.Machine;
        bool ok = WriteCsr(csr, value);
        Privilege = saved;
        SelectDataTlb();
        return ok;
    }

    /// <summary>Switches privilege directly (state restore, debuggers, tests); guests change it only by traps and xRET.</summary>
    public void SetPrivilegeLevel(PrivilegeLevel level) => SetPrivilege(level);
}
