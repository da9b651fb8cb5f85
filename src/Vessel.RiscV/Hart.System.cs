using Vessel.RiscV.Decoding;

namespace Vessel.RiscV;

/// <summary>SYSTEM instructions (privileged spec 3.3) and the A extension's AMOs (unprivileged spec ch. 8–9).</summary>
public sealed unsafe partial class Hart
{
    /// <summary>Executes a SYSTEM instruction. True when it retired (Pc set to <paramref name="next"/> or a new target).</summary>
    private bool ExecuteSystem(DecodedInstruction* d, ulong next)
    {
        switch (d->Op)
        {
            case Opcode.Ecall:
                RaiseException(Privilege switch
                {
                    PrivilegeLevel.User => TrapCause.EnvironmentCallFromU,
                    PrivilegeLevel.Supervisor => TrapCause.EnvironmentCallFromS,
                    _ => TrapCause.EnvironmentCallFromM,
                }, 0);
                return false;
            case Opcode.Ebreak:
                RaiseException(TrapCause.Breakpoint, Pc);
                return false;
            case Opcode.Mret:
                if (Privilege != PrivilegeLevel.Machine)
                {
                    return Illegal(d);
                }

                ExecuteMret();
                return true;
            case Opcode.Sret:
                // 3.1.6.5: TSR makes SRET in S-mode illegal; SRET in U-mode is always illegal.
                if (Privilege == PrivilegeLevel.User ||
                    (Privilege == PrivilegeLevel.Supervisor && (_mstatus & StatusBits.Tsr) != 0))
                {
                    return Illegal(d);
                }

                ExecuteSret();
                return true;
            case Opcode.Wfi:
                // 3.3.3 and 3.1.6.5: illegal in U-mode, and in S-mode when TW is set.
                if (Privilege == PrivilegeLevel.User ||
                    (Privilege == PrivilegeLevel.Supervisor && (_mstatus & StatusBits.Tw) != 0))
                {
                    return Illegal(d);
                }

                Pc = next;
                if ((Mip & _mie) == 0)
                {
                    IsWaitingForInterrupt = true;
                }

                return true;
            case Opcode.SfenceVma:
                if (Privilege == PrivilegeLevel.User ||
                    (Privilege == PrivilegeLevel.Supervisor && (_mstatus & StatusBits.Tvm) != 0))
                {
                    return Illegal(d);
                }

                // Entries are not tagged with ASIDs, so an ASID-specific fence flushes as much as a global one.
                if (d->Rs1 == 0)
                {
                    FlushTlb();
                }
                else
                {
                    FlushTlbPage(_x[d->Rs1]);
                }

                Pc = next;
                return true;
            default:
                return ExecuteCsr(d, next);
        }
    }

    private bool Illegal(DecodedInstruction* d)
    {
        RaiseException(TrapCause.IllegalInstruction, d->Raw);
        return false;
    }

    /// <summary>Zicsr: CSRRW/S/C and their immediate forms. CSRRS/C with x0 (or uimm 0) do not write; CSRRW with rd=x0 does not read.</summary>
    private bool ExecuteCsr(DecodedInstruction* d, ulong next)
    {
        int csr = d->Imm;
        bool immediate = d->Op >= Opcode.Csrrwi;
        ulong operand = immediate ? d->Rs1 : _x[d->Rs1];
        Opcode kind = immediate ? d->Op - (Opcode.Csrrwi - Opcode.Csrrw) : d->Op;
        bool writes = kind == Opcode.Csrrw || d->Rs1 != 0;

        // Privileged spec 2.1: csr[9:8] is the lowest privilege allowed; csr[11:10] == 3 marks read-only CSRs.
        if (((csr >> 8) & 3) > (int)Privilege || (writes && (csr >> 10) == 3))
        {
            return Illegal(d);
        }

        if (!ReadCsr(csr, out ulong old))
        {
            return Illegal(d);
        }

        if (writes)
        {
            ulong value = kind switch
            {
                Opcode.Csrrw => operand,
                Opcode.Csrrs => old | operand,
                _ => old & ~operand,
            };

            // sip/mip read-modify-write uses the software-writable bits, not the device lines (3.1.9).
            if (kind != Opcode.Csrrw && (csr == CsrAddress.Mip || csr == CsrAddress.Sip))
            {
                ulong softwareView = csr == CsrAddress.Mip ? _mipSoftware : _mipSoftware & _mideleg;
                value = kind == Opcode.Csrrs ? softwareView | operand : softwareView & ~operand;
            }

            if (!WriteCsr(csr, value))
            {
                return Illegal(d);
            }
        }

        _x[d->Rd] = old;
        Pc = next;
        return true;
    }

    private bool ExecuteAtomic(DecodedInstruction* d)
    {
        ulong* x = _x;
        ulong address = x[d->Rs1];
        ulong src = x[d->Rs2];
        switch (d->Op)
        {
            case Opcode.LrW:
            case Opcode.LrD:
                {
                    if (!LoadReserved(address, d->Op == Opcode.LrW ? 4 : 8, out ulong v))
                    {
                        return false;
                    }

                    x[d->Rd] = v;
                    return true;
                }

            case Opcode.ScW:
            case Opcode.ScD:
                {
                    if (!StoreConditional(address, d->Op == Opcode.ScW ? 4 : 8, src, out ulong failed))
                    {
                        return false;
                    }

                    x[d->Rd] = failed;
                    return true;
                }
        }

        bool word = d->Op <= Opcode.AmoMaxuW;
        if (!ResolveAtomic(address, word ? 4 : 8, out byte* host))
        {
            return false;
        }

        if (word)
        {
            ref int cell = ref *(int*)host;
            int b = (int)src;
            int old = d->Op switch
            {
                Opcode.AmoSwapW => Interlocked.Exchange(ref cell, b),
                Opcode.AmoAddW => Interlocked.Add(ref cell, b) - b,
                Opcode.AmoAndW => Interlocked.And(ref cell, b),
                Opcode.AmoOrW => Interlocked.Or(ref cell, b),
                _ => AtomicUpdate32(ref cell, b, d->Op),
            };
            x[d->Rd] = (ulong)(long)old;
        }
        else
        {
            ref long cell = ref *(long*)host;
            long b = (long)src;
            long old = d->Op switch
            {
                Opcode.AmoSwapD => Interlocked.Exchange(ref cell, b),
                Opcode.AmoAddD => Interlocked.Add(ref cell, b) - b,
                Opcode.AmoAndD => Interlocked.And(ref cell, b),
                Opcode.AmoOrD => Interlocked.Or(ref cell, b),
                _ => AtomicUpdate64(ref cell, b, d->Op),
            };
            x[d->Rd] = (ulong)old;
        }

        return true;
    }

    private static int AtomicUpdate32(ref int cell, int b, Opcode op)
    {
        while (true)
        {
            int old = Volatile.Read(ref cell);
            int value = op switch
            {
                Opcode.AmoXorW => old ^ b,
                Opcode.AmoMinW => Math.Min(old, b),
                Opcode.AmoMaxW => Math.Max(old, b),
                Opcode.AmoMinuW => (int)Math.Min((uint)old, (uint)b),
                _ => (int)Math.Max((uint)old, (uint)b),
            };
            if (Interlocked.CompareExchange(ref cell, value, old) == old)
            {
                return old;
            }
        }
    }

    private static long AtomicUpdate64(ref long cell, long b, Opcode op)
    {
        while (true)
        {
            long old = Volatile.Read(ref cell);
            long value = op switch
            {
                Opcode.AmoXorD => old ^ b,
                Opcode.AmoMinD => Math.Min(old, b),
                Opcode.AmoMaxD => Math.Max(old, b),
                Opcode.AmoMinuD => (long)Math.Min((ulong)old, (ulong)b),
                _ => (long)Math.Max((ulong)old, (ulong)b),
            };
            if (Interlocked.CompareExchange(ref cell, value, old) == old)
            {
                return old;
            }
        }
    }
}
