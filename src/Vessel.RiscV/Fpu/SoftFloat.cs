using static Vessel.RiscV.Fpu.SoftFloatCore;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// IEEE 754-2008 arithmetic for the RISC-V F and D extensions (unprivileged spec ch. 20–21), in software so every
/// result and flag is exact: operands and results are raw bit patterns, <c>rm</c> is a resolved rounding mode
/// (0 RNE, 1 RTZ, 2 RDN, 3 RUP, 4 RMM) and <c>flags</c> accumulates fflags (NV DZ OF UF NX = 0x10..0x01).
/// NaN results are always the canonical NaN (20.3). The 64- and 32-bit entry points share one generic core.
/// </summary>
public static partial class SoftFloat
{
    public const ulong CanonicalNaN64 = 0x7FF8_0000_0000_0000;
    public const uint CanonicalNaN32 = 0x7FC0_0000;

    // ---- binary64 ----
    public static ulong Add64(ulong a, ulong b, int rm, ref uint flags) => Add(a, b, false, FloatFormat.Double, rm, ref flags);

    public static ulong Sub64(ulong a, ulong b, int rm, ref uint flags) => Add(a, b, true, FloatFormat.Double, rm, ref flags);

    public static ulong Mul64(ulong a, ulong b, int rm, ref uint flags) => Mul(a, b, FloatFormat.Double, rm, ref flags);

    public static ulong Div64(ulong a, ulong b, int rm, ref uint flags) => Div(a, b, FloatFormat.Double, rm, ref flags);

    public static ulong Sqrt64(ulong a, int rm, ref uint flags) => Sqrt(a, FloatFormat.Double, rm, ref flags);

    public static ulong MulAdd64(ulong a, ulong b, ulong c, int rm, ref uint flags) => MulAdd(a, b, c, FloatFormat.Double, rm, ref flags);

    public static ulong Min64(ulong a, ulong b, ref uint flags) => MinMax(a, b, false, FloatFormat.Double, ref flags);

    public static ulong Max64(ulong a, ulong b, ref uint flags) => MinMax(a, b, true, FloatFormat.Double, ref flags);

    public static bool Eq64(ulong a, ulong b, ref uint flags) => Equal(a, b, FloatFormat.Double, ref flags);

    public static bool Lt64(ulong a, ulong b, ref uint flags) => Less(a, b, false, FloatFormat.Double, ref flags);

    public static bool Le64(ulong a, ulong b, ref uint flags) => Less(a, b, true, FloatFormat.Double, ref flags);

    public static ulong Class64(ulong a) => Classify(a, FloatFormat.Double);

    public static long ToInt32From64(ulong a, int rm, ref uint flags) => (int)ToInteger(a, FloatFormat.Double, rm, true, 31, ref flags);

    public static long ToUInt32From64(ulong a, int rm, ref uint flags) => (int)(uint)ToInteger(a, FloatFormat.Double, rm, false, 32, ref flags);

    public static long ToInt64From64(ulong a, int rm, ref uint flags) => (long)ToInteger(a, FloatFormat.Double, rm, true, 63, ref flags);

    public static ulong ToUInt64From64(ulong a, int rm, ref uint flags) => ToInteger(a, FloatFormat.Double, rm, false, 64, ref flags);

    public static ulong FromInt32To64(int v, int rm, ref uint flags) => FromSigned(v, FloatFormat.Double, rm, ref flags);

    public static ulong FromUInt32To64(uint v, int rm, ref uint flags) => RoundPackInteger(false, v, FloatFormat.Double, rm, ref flags);

    public static ulong FromInt64To64(long v, int rm, ref uint flags) => FromSigned(v, FloatFormat.Double, rm, ref flags);

    public static ulong FromUInt64To64(ulong v, int rm, ref uint flags) => RoundPackInteger(false, v, FloatFormat.Double, rm, ref flags);

    // ---- binary32 ----
    public static uint Add32(uint a, uint b, int rm, ref uint flags) => (uint)Add(a, b, false, FloatFormat.Single, rm, ref flags);

    public static uint Sub32(uint a, uint b, int rm, ref uint flags) => (uint)Add(a, b, true, FloatFormat.Single, rm, ref flags);

    public static uint Mul32(uint a, uint b, int rm, ref uint flags) => (uint)Mul(a, b, FloatFormat.Single, rm, ref flags);

    public static uint Div32(uint a, uint b, int rm, ref uint flags) => (uint)Div(a, b, FloatFormat.Single, rm, ref flags);

    public static uint Sqrt32(uint a, int rm, ref uint flags) => (uint)Sqrt(a, FloatFormat.Single, rm, ref flags);

    public static uint MulAdd32(uint a, uint b, uint c, int rm, ref uint flags) => (uint)MulAdd(a, b, c, FloatFormat.Single, rm, ref flags);

    public static uint Min32(uint a, uint b, ref uint flags) => (uint)MinMax(a, b, false, FloatFormat.Single, ref flags);

    public static uint Max32(uint a, uint b, ref uint flags) => (uint)MinMax(a, b, true, FloatFormat.Single, ref flags);

    public static bool Eq32(uint a, uint b, ref uint flags) => Equal(a, b, FloatFormat.Single, ref flags);

    public static bool Lt32(uint a, uint b, ref uint flags) => Less(a, b, false, FloatFormat.Single, ref flags);

    public static bool Le32(uint a, uint b, ref uint flags) => Less(a, b, true, FloatFormat.Single, ref flags);

    public static ulong Class32(uint a) => Classify(a, FloatFormat.Single);

    public static long ToInt32From32(uint a, int rm, ref uint flags) => (int)ToInteger(a, FloatFormat.Single, rm, true, 31, ref flags);

    public static long ToUInt32From32(uint a, int rm, ref uint flags) => (int)(uint)ToInteger(a, FloatFormat.Single, rm, false, 32, ref flags);

    public static long ToInt64From32(uint a, int rm, ref uint flags) => (long)ToInteger(a, FloatFormat.Single, rm, true, 63, ref flags);

    public static ulong ToUInt64From32(uint a, int rm, ref uint flags) => ToInteger(a, FloatFormat.Single, rm, false, 64, ref flags);

    public static uint FromInt32To32(int v, int rm, ref uint flags) => (uint)FromSigned(v, FloatFormat.Single, rm, ref flags);

    public static uint FromUInt32To32(uint v, int rm, ref uint flags) => (uint)RoundPackInteger(false, v, FloatFormat.Single, rm, ref flags);

    public static uint FromInt64To32(long v, int rm, ref uint flags) => (uint)FromSigned(v, FloatFormat.Single, rm, ref flags);

    public static uint FromUInt64To32(ulong v, int rm, ref uint flags) => (uint)RoundPackInteger(false, v, FloatFormat.Single, rm, ref flags);

    // ---- conversions between formats (21.4) ----
    public static ulong Float32To64(uint a, ref uint flags) => Convert(a, FloatFormat.Single, FloatFormat.Double, Rne, ref flags);

    public static uint Float64To32(ulong a, int rm, ref uint flags) => (uint)Convert(a, FloatFormat.Double, FloatFormat.Single, rm, ref flags);
}
