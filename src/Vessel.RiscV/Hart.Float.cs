using System.Runtime.CompilerServices;
using Vessel.RiscV.Decoding;
using Vessel.RiscV.Fpu;

namespace Vessel.RiscV;

/// <summary>
/// F and D instructions (unprivileged spec ch. 20–21). Arithmetic is <see cref="SoftFloat"/>; this file does
/// NaN-boxing (21.2), rounding-mode resolution (20.2), fflags accumulation and FS dirty tracking.
/// </summary>
public sealed unsafe partial class Hart
{
    private const ulong BoxMask = 0xFFFF_FFFF_0000_0000;
    private const uint Sign32 = 0x8000_0000;
    private const ulong Sign64 = 0x8000_0000_0000_0000;

    /// <summary>A single in a 64-bit register is valid only if NaN-boxed; otherwise it reads as the canonical NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Unbox(ulong v) => (v & BoxMask) == BoxMask ? (uint)v : SoftFloat.CanonicalNaN32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Box(uint v) => BoxMask | v;

    private bool ExecuteFloat(DecodedInstruction* d)
    {
        // 3.1.6.6: with FS = Off every F/D instruction is illegal.
        if ((_mstatus & StatusBits.Fs) == 0)
        {
            return Illegal(d);
        }

        ulong* f = _f;
        ulong* x = _x;
        uint flags = 0;
        int rm = d->Rm == 7 ? (int)_frm : d->Rm;
        switch (d->Op)
        {
            case Opcode.Flw:
                {
                    if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out uint v))
                    {
                        return false;
                    }

                    f[d->Rd] = Box(v);
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

            // Sign injection and moves: no rounding, no flags.
            case Opcode.FsgnjS: f[d->Rd] = Box((Unbox(f[d->Rs1]) & ~Sign32) | (Unbox(f[d->Rs2]) & Sign32)); break;
            case Opcode.FsgnjnS: f[d->Rd] = Box((Unbox(f[d->Rs1]) & ~Sign32) | (~Unbox(f[d->Rs2]) & Sign32)); break;
            case Opcode.FsgnjxS: f[d->Rd] = Box(Unbox(f[d->Rs1]) ^ (Unbox(f[d->Rs2]) & Sign32)); break;
            case Opcode.FsgnjD: f[d->Rd] = (f[d->Rs1] & ~Sign64) | (f[d->Rs2] & Sign64); break;
            case Opcode.FsgnjnD: f[d->Rd] = (f[d->Rs1] & ~Sign64) | (~f[d->Rs2] & Sign64); break;
            case Opcode.FsgnjxD: f[d->Rd] = f[d->Rs1] ^ (f[d->Rs2] & Sign64); break;
            case Opcode.FmvXW: x[d->Rd] = (ulong)(long)(int)(uint)f[d->Rs1]; return true;
            case Opcode.FmvWX: f[d->Rd] = Box((uint)x[d->Rs1]); break;
            case Opcode.FmvXD: x[d->Rd] = f[d->Rs1]; return true;
            case Opcode.FmvDX: f[d->Rd] = x[d->Rs1]; break;
            case Opcode.FclassS: x[d->Rd] = SoftFloat.Class32(Unbox(f[d->Rs1])); return true;
            case Opcode.FclassD: x[d->Rd] = SoftFloat.Class64(f[d->Rs1]); return true;

            case Opcode.FminS: f[d->Rd] = Box(SoftFloat.Min32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), ref flags)); break;
            case Opcode.FmaxS: f[d->Rd] = Box(SoftFloat.Max32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), ref flags)); break;
            case Opcode.FminD: f[d->Rd] = SoftFloat.Min64(f[d->Rs1], f[d->Rs2], ref flags); break;
            case Opcode.FmaxD: f[d->Rd] = SoftFloat.Max64(f[d->Rs1], f[d->Rs2], ref flags); break;
            case Opcode.FeqS: x[d->Rd] = SoftFloat.Eq32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), ref flags) ? 1UL : 0UL; break;
            case Opcode.FltS: x[d->Rd] = SoftFloat.Lt32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), ref flags) ? 1UL : 0UL; break;
            case Opcode.FleS: x[d->Rd] = SoftFloat.Le32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), ref flags) ? 1UL : 0UL; break;
            case Opcode.FeqD: x[d->Rd] = SoftFloat.Eq64(f[d->Rs1], f[d->Rs2], ref flags) ? 1UL : 0UL; break;
            case Opcode.FltD: x[d->Rd] = SoftFloat.Lt64(f[d->Rs1], f[d->Rs2], ref flags) ? 1UL : 0UL; break;
            case Opcode.FleD: x[d->Rd] = SoftFloat.Le64(f[d->Rs1], f[d->Rs2], ref flags) ? 1UL : 0UL; break;

            default:
                // Everything below rounds: the dynamic mode must name a valid mode (20.2).
                if (rm > 4)
                {
                    return Illegal(d);
                }

                ExecuteRoundedFloat(d, rm, ref flags);
                break;
        }

        _fflags |= flags;
        _mstatus |= StatusBits.FsDirty;
        return true;
    }

    private void ExecuteRoundedFloat(DecodedInstruction* d, int rm, ref uint flags)
    {
        ulong* f = _f;
        ulong* x = _x;
        switch (d->Op)
        {
            case Opcode.FaddS: f[d->Rd] = Box(SoftFloat.Add32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), rm, ref flags)); break;
            case Opcode.FsubS: f[d->Rd] = Box(SoftFloat.Sub32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), rm, ref flags)); break;
            case Opcode.FmulS: f[d->Rd] = Box(SoftFloat.Mul32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), rm, ref flags)); break;
            case Opcode.FdivS: f[d->Rd] = Box(SoftFloat.Div32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), rm, ref flags)); break;
            case Opcode.FsqrtS: f[d->Rd] = Box(SoftFloat.Sqrt32(Unbox(f[d->Rs1]), rm, ref flags)); break;
            case Opcode.FaddD: f[d->Rd] = SoftFloat.Add64(f[d->Rs1], f[d->Rs2], rm, ref flags); break;
            case Opcode.FsubD: f[d->Rd] = SoftFloat.Sub64(f[d->Rs1], f[d->Rs2], rm, ref flags); break;
            case Opcode.FmulD: f[d->Rd] = SoftFloat.Mul64(f[d->Rs1], f[d->Rs2], rm, ref flags); break;
            case Opcode.FdivD: f[d->Rd] = SoftFloat.Div64(f[d->Rs1], f[d->Rs2], rm, ref flags); break;
            case Opcode.FsqrtD: f[d->Rd] = SoftFloat.Sqrt64(f[d->Rs1], rm, ref flags); break;

            // Fused multiply-add family: the negations are sign flips of the inputs (21.6).
            case Opcode.FmaddS: f[d->Rd] = Box(SoftFloat.MulAdd32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), Unbox(f[d->Rs3]), rm, ref flags)); break;
            case Opcode.FmsubS: f[d->Rd] = Box(SoftFloat.MulAdd32(Unbox(f[d->Rs1]), Unbox(f[d->Rs2]), Unbox(f[d->Rs3]) ^ Sign32, rm, ref flags)); break;
            case Opcode.FnmsubS: f[d->Rd] = Box(SoftFloat.MulAdd32(Unbox(f[d->Rs1]) ^ Sign32, Unbox(f[d->Rs2]), Unbox(f[d->Rs3]), rm, ref flags)); break;
            case Opcode.FnmaddS: f[d->Rd] = Box(SoftFloat.MulAdd32(Unbox(f[d->Rs1]) ^ Sign32, Unbox(f[d->Rs2]), Unbox(f[d->Rs3]) ^ Sign32, rm, ref flags)); break;
            case Opcode.FmaddD: f[d->Rd] = SoftFloat.MulAdd64(f[d->Rs1], f[d->Rs2], f[d->Rs3], rm, ref flags); break;
            case Opcode.FmsubD: f[d->Rd] = SoftFloat.MulAdd64(f[d->Rs1], f[d->Rs2], f[d->Rs3] ^ Sign64, rm, ref flags); break;
            case Opcode.FnmsubD: f[d->Rd] = SoftFloat.MulAdd64(f[d->Rs1] ^ Sign64, f[d->Rs2], f[d->Rs3], rm, ref flags); break;
            case Opcode.FnmaddD: f[d->Rd] = SoftFloat.MulAdd64(f[d->Rs1] ^ Sign64, f[d->Rs2], f[d->Rs3] ^ Sign64, rm, ref flags); break;

            case Opcode.FcvtSD: f[d->Rd] = Box(SoftFloat.Float64To32(f[d->Rs1], rm, ref flags)); break;
            case Opcode.FcvtDS: f[d->Rd] = SoftFloat.Float32To64(Unbox(f[d->Rs1]), ref flags); break;

            case Opcode.FcvtWS: x[d->Rd] = (ulong)SoftFloat.ToInt32From32(Unbox(f[d->Rs1]), rm, ref flags); break;
            case Opcode.FcvtWuS: x[d->Rd] = (ulong)SoftFloat.ToUInt32From32(Unbox(f[d->Rs1]), rm, ref flags); break;
            case Opcode.FcvtLS: x[d->Rd] = (ulong)SoftFloat.ToInt64From32(Unbox(f[d->Rs1]), rm, ref flags); break;
            case Opcode.FcvtLuS: x[d->Rd] = SoftFloat.ToUInt64From32(Unbox(f[d->Rs1]), rm, ref flags); break;
            case Opcode.FcvtWD: x[d->Rd] = (ulong)SoftFloat.ToInt32From64(f[d->Rs1], rm, ref flags); break;
            case Opcode.FcvtWuD: x[d->Rd] = (ulong)SoftFloat.ToUInt32From64(f[d->Rs1], rm, ref flags); break;
            case Opcode.FcvtLD: x[d->Rd] = (ulong)SoftFloat.ToInt64From64(f[d->Rs1], rm, ref flags); break;
            case Opcode.FcvtLuD: x[d->Rd] = SoftFloat.ToUInt64From64(f[d->Rs1], rm, ref flags); break;

            case Opcode.FcvtSW: f[d->Rd] = Box(SoftFloat.FromInt32To32((int)x[d->Rs1], rm, ref flags)); break;
            case Opcode.FcvtSWu: f[d->Rd] = Box(SoftFloat.FromUInt32To32((uint)x[d->Rs1], rm, ref flags)); break;
            case Opcode.FcvtSL: f[d->Rd] = Box(SoftFloat.FromInt64To32((long)x[d->Rs1], rm, ref flags)); break;
            case Opcode.FcvtSLu: f[d->Rd] = Box(SoftFloat.FromUInt64To32(x[d->Rs1], rm, ref flags)); break;
            case Opcode.FcvtDW: f[d->Rd] = SoftFloat.FromInt32To64((int)x[d->Rs1], rm, ref flags); break;
            case Opcode.FcvtDWu: f[d->Rd] = SoftFloat.FromUInt32To64((uint)x[d->Rs1], rm, ref flags); break;
            case Opcode.FcvtDL: f[d->Rd] = SoftFloat.FromInt64To64((long)x[d->Rs1], rm, ref flags); break;
            case Opcode.FcvtDLu: f[d->Rd] = SoftFloat.FromUInt64To64(x[d->Rs1], rm, ref flags); break;
        }
    }
}
