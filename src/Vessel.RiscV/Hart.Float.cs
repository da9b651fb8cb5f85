using Vessel.RiscV.Decoding;
using Vessel.RiscV.Fpu;

namespace Vessel.RiscV;

/// <summary>
/// F and D instructions (unprivileged spec ch. 20–21). The register-to-register ones are
/// <see cref="FloatInstructions"/>, which the JIT calls too; this file does the loads and stores, the FS check,
/// rounding-mode resolution (20.2), fflags accumulation and FS dirty tracking.
/// </summary>
public sealed unsafe partial class Hart
{
    private bool ExecuteFloat(DecodedInstruction* d)
    {
        // 3.1.6.6: with FS = Off every F/D instruction is illegal.
        if ((_mstatus & StatusBits.Fs) == 0)
        {
            return Illegal(d);
        }

        ulong* f = _f;
        ulong* x = _x;
        Opcode op = d->Op;
        switch (op)
        {
            case Opcode.Flw:
                {
                    if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out uint v))
                    {
                        return false;
                    }

                    f[d->Rd] = FloatInstructions.Box(v);
                    break;
                }

            case Opcode.Fld:
                {
                    if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out ulong v))
                    {
                        return false;
                    }

                    f[d->Rd] = v;
                    break;
                }

            case Opcode.Fsw:
                return Store(x[d->Rs1] + (ulong)(long)d->Imm, (uint)f[d->Rs2]);
            case Opcode.Fsd:
                return Store(x[d->Rs1] + (ulong)(long)d->Imm, f[d->Rs2]);

            default:
                {
                    int rm = d->Rm == 7 ? (int)_frm : d->Rm;
                    if (rm > 4 && FloatInstructions.IsRounded(op))
                    {
                        return Illegal(d); // a dynamic mode must name a valid mode (20.2)
                    }

                    uint flags = 0;
                    if (FloatInstructions.WritesInteger(op))
                    {
                        x[d->Rd] = FloatInstructions.IntegerResult(op, f[d->Rs1], f[d->Rs2], rm, ref flags);
                    }
                    else if (FloatInstructions.ReadsInteger(op))
                    {
                        f[d->Rd] = FloatInstructions.FromInteger(op, x[d->Rs1], rm, ref flags);
                    }
                    else
                    {
                        f[d->Rd] = FloatInstructions.FloatResult(op, f[d->Rs1], f[d->Rs2], f[d->Rs3], rm, ref flags);
                    }

                    _fflags |= flags;
                    break;
                }
        }

        if (FloatInstructions.MarksDirty(op))
        {
            _mstatus |= StatusBits.FsDirty;
        }

        return true;
    }
}
