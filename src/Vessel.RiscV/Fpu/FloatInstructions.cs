using System.Runtime.CompilerServices;
using Vessel.RiscV.Decoding;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// The register-to-register F and D instructions (unprivileged spec ch. 20–21) as static functions of their operand
/// values, shared by the interpreter (Hart.Float.cs) and the JIT's IL (which calls them with the guest registers it
/// holds in locals). They do NaN-boxing (21.2) and accrue exception flags into <c>flags</c>; the caller checks
/// mstatus.FS, resolves and validates the rounding mode (20.2) and marks FS dirty.
/// </summary>
internal static class FloatInstructions
{
    public const ulong BoxMask = 0xFFFF_FFFF_0000_0000;
    private const uint Sign32 = 0x8000_0000;
    private const ulong Sign64 = 0x8000_0000_0000_0000;

    /// <summary>A single in a 64-bit register is valid only if NaN-boxed; otherwise it reads as the canonical NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Unbox(ulong v) => (v & BoxMask) == BoxMask ? (uint)v : SoftFloat.CanonicalNaN32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Box(uint v) => BoxMask | v;

    /// <summary>Whether the instruction rounds, so its rm field (or frm, when dynamic) must name a valid mode (20.2).</summary>
    public static bool IsRounded(Opcode op) => op is
        (>= Opcode.FmaddS and <= Opcode.FsqrtS) or (>= Opcode.FcvtWS and <= Opcode.FcvtLuS) or (>= Opcode.FcvtSW and <= Opcode.FcvtSLu) or
        (>= Opcode.FmaddD and <= Opcode.FsqrtD) or Opcode.FcvtSD or Opcode.FcvtDS or (>= Opcode.FcvtWD and <= Opcode.FcvtLuD) or
        (>= Opcode.FcvtDW and <= Opcode.FcvtDLu);

    /// <summary>Instructions whose destination is an integer register (<see cref="IntegerResult"/>).</summary>
    public static bool WritesInteger(Opcode op) => op is
        (>= Opcode.FcvtWS and <= Opcode.FleS) or (>= Opcode.FcvtWD and <= Opcode.FleD);

    /// <summary>Instructions whose source is an integer register (<see cref="FromInteger"/>).</summary>
    public static bool ReadsInteger(Opcode op) => op is
        (>= Opcode.FcvtSW and <= Opcode.FmvWX) or (>= Opcode.FcvtDW and <= Opcode.FmvDX);

    /// <summary>
    /// Whether executing the instruction sets mstatus.FS to Dirty. Stores, FMV.X.* and FCLASS only read the float
    /// registers, so they leave FS as it is; everything else may write a float register or fflags (3.1.6.6).
    /// </summary>
    public static bool MarksDirty(Opcode op) => op is not
        (Opcode.Fsw or Opcode.Fsd or Opcode.FmvXW or Opcode.FmvXD or Opcode.FclassS or Opcode.FclassD);

    /// <summary>An instruction with float sources <paramref name="a"/>, <paramref name="b"/>, <paramref name="c"/> and a float result.</summary>
    public static ulong FloatResult(Opcode op, ulong a, ulong b, ulong c, int rm, ref uint flags) => op switch
    {
        // Sign injection: no rounding, no flags.
        Opcode.FsgnjS => Box((Unbox(a) & ~Sign32) | (Unbox(b) & Sign32)),
        Opcode.FsgnjnS => Box((Unbox(a) & ~Sign32) | (~Unbox(b) & Sign32)),
        Opcode.FsgnjxS => Box(Unbox(a) ^ (Unbox(b) & Sign32)),
        Opcode.FsgnjD => (a & ~Sign64) | (b & Sign64),
        Opcode.FsgnjnD => (a & ~Sign64) | (~b & Sign64),
        Opcode.FsgnjxD => a ^ (b & Sign64),
        Opcode.FminS => Box(SoftFloat.Min32(Unbox(a), Unbox(b), ref flags)),
        Opcode.FmaxS => Box(SoftFloat.Max32(Unbox(a), Unbox(b), ref flags)),
        Opcode.FminD => SoftFloat.Min64(a, b, ref flags),
        Opcode.FmaxD => SoftFloat.Max64(a, b, ref flags),

        Opcode.FaddS => Box(SoftFloat.Add32(Unbox(a), Unbox(b), rm, ref flags)),
        Opcode.FsubS => Box(SoftFloat.Sub32(Unbox(a), Unbox(b), rm, ref flags)),
        Opcode.FmulS => Box(SoftFloat.Mul32(Unbox(a), Unbox(b), rm, ref flags)),
        Opcode.FdivS => Box(SoftFloat.Div32(Unbox(a), Unbox(b), rm, ref flags)),
        Opcode.FsqrtS => Box(SoftFloat.Sqrt32(Unbox(a), rm, ref flags)),
        Opcode.FaddD => SoftFloat.Add64(a, b, rm, ref flags),
        Opcode.FsubD => SoftFloat.Sub64(a, b, rm, ref flags),
        Opcode.FmulD => SoftFloat.Mul64(a, b, rm, ref flags),
        Opcode.FdivD => SoftFloat.Div64(a, b, rm, ref flags),
        Opcode.FsqrtD => SoftFloat.Sqrt64(a, rm, ref flags),

        // Fused multiply-add family: the negations are sign flips of the inputs (21.6).
        Opcode.FmaddS => Box(SoftFloat.MulAdd32(Unbox(a), Unbox(b), Unbox(c), rm, ref flags)),
        Opcode.FmsubS => Box(SoftFloat.MulAdd32(Unbox(a), Unbox(b), Unbox(c) ^ Sign32, rm, ref flags)),
        Opcode.FnmsubS => Box(SoftFloat.MulAdd32(Unbox(a) ^ Sign32, Unbox(b), Unbox(c), rm, ref flags)),
        Opcode.FnmaddS => Box(SoftFloat.MulAdd32(Unbox(a) ^ Sign32, Unbox(b), Unbox(c) ^ Sign32, rm, ref flags)),
        Opcode.FmaddD => SoftFloat.MulAdd64(a, b, c, rm, ref flags),
        Opcode.FmsubD => SoftFloat.MulAdd64(a, b, c ^ Sign64, rm, ref flags),
        Opcode.FnmsubD => SoftFloat.MulAdd64(a ^ Sign64, b, c, rm, ref flags),
        Opcode.FnmaddD => SoftFloat.MulAdd64(a ^ Sign64, b, c ^ Sign64, rm, ref flags),

        Opcode.FcvtSD => Box(SoftFloat.Float64To32(a, rm, ref flags)),
        Opcode.FcvtDS => SoftFloat.Float32To64(Unbox(a), ref flags),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a float-to-float instruction"),
    };

    /// <summary>An instruction with float sources and an integer result: moves, FCLASS, compares, conversions.</summary>
    public static ulong IntegerResult(Opcode op, ulong a, ulong b, int rm, ref uint flags) => op switch
    {
        Opcode.FmvXW => (ulong)(long)(int)(uint)a,
        Opcode.FmvXD => a,
        Opcode.FclassS => SoftFloat.Class32(Unbox(a)),
        Opcode.FclassD => SoftFloat.Class64(a),
        Opcode.FeqS => SoftFloat.Eq32(Unbox(a), Unbox(b), ref flags) ? 1UL : 0UL,
        Opcode.FltS => SoftFloat.Lt32(Unbox(a), Unbox(b), ref flags) ? 1UL : 0UL,
        Opcode.FleS => SoftFloat.Le32(Unbox(a), Unbox(b), ref flags) ? 1UL : 0UL,
        Opcode.FeqD => SoftFloat.Eq64(a, b, ref flags) ? 1UL : 0UL,
        Opcode.FltD => SoftFloat.Lt64(a, b, ref flags) ? 1UL : 0UL,
        Opcode.FleD => SoftFloat.Le64(a, b, ref flags) ? 1UL : 0UL,
        Opcode.FcvtWS => (ulong)SoftFloat.ToInt32From32(Unbox(a), rm, ref flags),
        Opcode.FcvtWuS => (ulong)SoftFloat.ToUInt32From32(Unbox(a), rm, ref flags),
        Opcode.FcvtLS => (ulong)SoftFloat.ToInt64From32(Unbox(a), rm, ref flags),
        Opcode.FcvtLuS => SoftFloat.ToUInt64From32(Unbox(a), rm, ref flags),
        Opcode.FcvtWD => (ulong)SoftFloat.ToInt32From64(a, rm, ref flags),
        Opcode.FcvtWuD => (ulong)SoftFloat.ToUInt32From64(a, rm, ref flags),
        Opcode.FcvtLD => (ulong)SoftFloat.ToInt64From64(a, rm, ref flags),
        Opcode.FcvtLuD => SoftFloat.ToUInt64From64(a, rm, ref flags),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a float-to-integer instruction"),
    };

    /// <summary>An instruction with an integer source and a float result: moves and conversions.</summary>
    public static ulong FromInteger(Opcode op, ulong x, int rm, ref uint flags) => op switch
    {
        Opcode.FmvWX => Box((uint)x),
        Opcode.FmvDX => x,
        Opcode.FcvtSW => Box(SoftFloat.FromInt32To32((int)x, rm, ref flags)),
        Opcode.FcvtSWu => Box(SoftFloat.FromUInt32To32((uint)x, rm, ref flags)),
        Opcode.FcvtSL => Box(SoftFloat.FromInt64To32((long)x, rm, ref flags)),
        Opcode.FcvtSLu => Box(SoftFloat.FromUInt64To32(x, rm, ref flags)),
        Opcode.FcvtDW => SoftFloat.FromInt32To64((int)x, rm, ref flags),
        Opcode.FcvtDWu => SoftFloat.FromUInt32To64((uint)x, rm, ref flags),
        Opcode.FcvtDL => SoftFloat.FromInt64To64((long)x, rm, ref flags),
        Opcode.FcvtDLu => SoftFloat.FromUInt64To64(x, rm, ref flags),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an integer-to-float instruction"),
    };
}
