namespace Vessel.RiscV.Fpu;

/// <summary>
/// IEEE 754-2008 arithmetic for the RISC-V F and D extensions, in software so every result and flag is exact.
/// Operands and results are raw encodings (binary64 as <see cref="ulong"/>, binary32 as <see cref="uint"/>;
/// NaN-boxing is the caller's business). <c>rm</c> is a resolved rounding mode, 0 RNE, 1 RTZ, 2 RDN, 3 RUP,
/// 4 RMM; <c>flags</c> accumulates fflags bits, NV 0x10, DZ 0x08, OF 0x04, UF 0x02, NX 0x01. Every NaN result is
/// the canonical NaN (F chapter, "NaN Generation and Propagation"); tininess is detected after rounding.
/// The integer core (<see cref="FloatArithmetic{TFormat}"/> and friends) defines every result; the common cases of
/// the basic operations take <see cref="HostAssistedArithmetic"/>'s bit-identical fast paths.
/// </summary>
public static class SoftFloat
{
    public const ulong CanonicalNaN64 = 0x7FF8_0000_0000_0000;
    public const uint CanonicalNaN32 = 0x7FC0_0000;

    private const ulong SignBit64 = 1UL << 63;
    private const uint SignBit32 = 1U << 31;

    // ---- binary64 (D chapter) ----

    public static ulong Add64(ulong a, ulong b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Add64(a, b, rm, ref flags);

    public static ulong Sub64(ulong a, ulong b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Add64(a, b ^ SignBit64, rm, ref flags);

    public static ulong Mul64(ulong a, ulong b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Mul64(a, b, rm, ref flags);

    public static ulong Div64(ulong a, ulong b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Div64(a, b, rm, ref flags);

    public static ulong Sqrt64(ulong a, int rm, ref uint flags) =>
        HostAssistedArithmetic.Sqrt64(a, rm, ref flags);

    /// <summary>a × b + c rounded once. FMSUB, FNMSUB and FNMADD are this with input signs flipped.</summary>
    public static ulong MulAdd64(ulong a, ulong b, ulong c, int rm, ref uint flags) =>
        FusedMultiplyAdd<Binary64>.MulAdd(a, b, c, rm, ref flags);

    public static ulong Min64(ulong a, ulong b, ref uint flags) =>
        FloatComparison<Binary64>.MinMax(a, b, false, ref flags);

    public static ulong Max64(ulong a, ulong b, ref uint flags) =>
        FloatComparison<Binary64>.MinMax(a, b, true, ref flags);

    /// <summary>FEQ.D: quiet, NV only for a signalling NaN.</summary>
    public static bool Eq64(ulong a, ulong b, ref uint flags) =>
        FloatComparison<Binary64>.Equal(a, b, ref flags);

    /// <summary>FLT.D: signalling, NV for any NaN.</summary>
    public static bool Lt64(ulong a, ulong b, ref uint flags) =>
        FloatComparison<Binary64>.Less(a, b, false, ref flags);

    /// <summary>FLE.D: signalling, NV for any NaN.</summary>
    public static bool Le64(ulong a, ulong b, ref uint flags) =>
        FloatComparison<Binary64>.Less(a, b, true, ref flags);

    /// <summary>FCLASS.D: the 10-bit class mask.</summary>
    public static ulong Class64(ulong a) => FloatComparison<Binary64>.Classify(a);

    /// <summary>FCVT.W.D: the 32-bit result sign-extended.</summary>
    public static long ToInt32From64(ulong a, int rm, ref uint flags) =>
        FloatConversions.ToSigned<Binary64>(a, 32, rm, ref flags);

    /// <summary>FCVT.WU.D: the 32-bit result sign-extended, as RV64 writes every 32-bit result.</summary>
    public static long ToUInt32From64(ulong a, int rm, ref uint flags) =>
        (int)(uint)FloatConversions.ToUnsigned<Binary64>(a, 32, rm, ref flags);

    public static long ToInt64From64(ulong a, int rm, ref uint flags) =>
        FloatConversions.ToSigned<Binary64>(a, 64, rm, ref flags);

    public static ulong ToUInt64From64(ulong a, int rm, ref uint flags) =>
        FloatConversions.ToUnsigned<Binary64>(a, 64, rm, ref flags);

    public static ulong FromInt32To64(int v, int rm, ref uint flags) =>
        FloatConversions.FromSigned<Binary64>(v, rm, ref flags);

    public static ulong FromUInt32To64(uint v, int rm, ref uint flags) =>
        FloatConversions.FromUnsigned<Binary64>(v, rm, ref flags);

    public static ulong FromInt64To64(long v, int rm, ref uint flags) =>
        FloatConversions.FromSigned<Binary64>(v, rm, ref flags);

    public static ulong FromUInt64To64(ulong v, int rm, ref uint flags) =>
        FloatConversions.FromUnsigned<Binary64>(v, rm, ref flags);

    // ---- binary32 (F chapter) ----

    public static uint Add32(uint a, uint b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Add32(a, b, rm, ref flags);

    public static uint Sub32(uint a, uint b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Add32(a, b ^ SignBit32, rm, ref flags);

    public static uint Mul32(uint a, uint b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Mul32(a, b, rm, ref flags);

    public static uint Div32(uint a, uint b, int rm, ref uint flags) =>
        HostAssistedArithmetic.Div32(a, b, rm, ref flags);

    public static uint Sqrt32(uint a, int rm, ref uint flags) =>
        HostAssistedArithmetic.Sqrt32(a, rm, ref flags);

    /// <summary>a × b + c rounded once. FMSUB, FNMSUB and FNMADD are this with input signs flipped.</summary>
    public static uint MulAdd32(uint a, uint b, uint c, int rm, ref uint flags) =>
        HostAssistedArithmetic.MulAdd32(a, b, c, rm, ref flags);

    public static uint Min32(uint a, uint b, ref uint flags) =>
        (uint)FloatComparison<Binary32>.MinMax(a, b, false, ref flags);

    public static uint Max32(uint a, uint b, ref uint flags) =>
        (uint)FloatComparison<Binary32>.MinMax(a, b, true, ref flags);

    /// <summary>FEQ.S: quiet, NV only for a signalling NaN.</summary>
    public static bool Eq32(uint a, uint b, ref uint flags) =>
        FloatComparison<Binary32>.Equal(a, b, ref flags);

    /// <summary>FLT.S: signalling, NV for any NaN.</summary>
    public static bool Lt32(uint a, uint b, ref uint flags) =>
        FloatComparison<Binary32>.Less(a, b, false, ref flags);

    /// <summary>FLE.S: signalling, NV for any NaN.</summary>
    public static bool Le32(uint a, uint b, ref uint flags) =>
        FloatComparison<Binary32>.Less(a, b, true, ref flags);

    /// <summary>FCLASS.S: the 10-bit class mask.</summary>
    public static ulong Class32(uint a) => FloatComparison<Binary32>.Classify(a);

    /// <summary>FCVT.W.S: the 32-bit result sign-extended.</summary>
    public static long ToInt32From32(uint a, int rm, ref uint flags) =>
        FloatConversions.ToSigned<Binary32>(a, 32, rm, ref flags);

    /// <summary>FCVT.WU.S: the 32-bit result sign-extended, as RV64 writes every 32-bit result.</summary>
    public static long ToUInt32From32(uint a, int rm, ref uint flags) =>
        (int)(uint)FloatConversions.ToUnsigned<Binary32>(a, 32, rm, ref flags);

    public static long ToInt64From32(uint a, int rm, ref uint flags) =>
        FloatConversions.ToSigned<Binary32>(a, 64, rm, ref flags);

    public static ulong ToUInt64From32(uint a, int rm, ref uint flags) =>
        FloatConversions.ToUnsigned<Binary32>(a, 64, rm, ref flags);

    public static uint FromInt32To32(int v, int rm, ref uint flags) =>
        (uint)FloatConversions.FromSigned<Binary32>(v, rm, ref flags);

    public static uint FromUInt32To32(uint v, int rm, ref uint flags) =>
        (uint)FloatConversions.FromUnsigned<Binary32>(v, rm, ref flags);

    public static uint FromInt64To32(long v, int rm, ref uint flags) =>
        (uint)FloatConversions.FromSigned<Binary32>(v, rm, ref flags);

    public static uint FromUInt64To32(ulong v, int rm, ref uint flags) =>
        (uint)FloatConversions.FromUnsigned<Binary32>(v, rm, ref flags);

    // ---- between formats (D chapter, FCVT.S.D and FCVT.D.S) ----

    /// <summary>FCVT.D.S: always exact; a signalling NaN raises NV, every NaN becomes the canonical NaN.</summary>
    public static ulong Float32To64(uint a, ref uint flags) =>
        FloatConversions.Convert<Binary32, Binary64>(a, RoundingMode.NearestEven, ref flags);

    /// <summary>FCVT.S.D: rounded per <paramref name="rm"/>.</summary>
    public static uint Float64To32(ulong a, int rm, ref uint flags) =>
        (uint)FloatConversions.Convert<Binary64, Binary32>(a, rm, ref flags);
}
