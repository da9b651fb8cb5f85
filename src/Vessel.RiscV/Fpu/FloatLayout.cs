using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// The bit layout of format <typeparamref name="TFormat"/> (IEEE 754-2008 §3.4): sign, biased exponent, trailing
/// significand. Encodings travel as <see cref="ulong"/> with unused high bits zero, so one core serves both widths.
/// </summary>
internal static class FloatLayout<TFormat>
    where TFormat : struct, IFloatFormat
{
    public static int FractionBits => TFormat.FractionBits;

    public static int Bias => (1 << (TFormat.ExponentBits - 1)) - 1;

    /// <summary>The all-ones biased exponent of infinities and NaNs.</summary>
    public static int MaxBiasedExponent => (1 << TFormat.ExponentBits) - 1;

    public static ulong SignBit => 1UL << (TFormat.ExponentBits + TFormat.FractionBits);

    public static ulong FractionMask => (1UL << TFormat.FractionBits) - 1;

    public static ulong ExponentMask => (ulong)MaxBiasedExponent << TFormat.FractionBits;

    /// <summary>The most significant fraction bit, set in quiet NaNs and clear in signalling ones (§6.2.1).</summary>
    public static ulong QuietBit => 1UL << (TFormat.FractionBits - 1);

    /// <summary>The canonical NaN RISC-V produces for every NaN result: positive, quiet, zero payload.</summary>
    public static ulong CanonicalNaN => ExponentMask | QuietBit;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Zero(bool negative) => negative ? SignBit : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Infinity(bool negative) => Zero(negative) | ExponentMask;

    /// <summary>The largest finite magnitude: exponent field all ones but one, fraction all ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MaxFinite(bool negative) => Zero(negative) | (ExponentMask - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsNaN(ulong bits) => (bits & ~SignBit) > ExponentMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSignalingNaN(ulong bits) => IsNaN(bits) && (bits & QuietBit) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UnpackedFloat Unpack(ulong bits)
    {
        var u = new UnpackedFloat { Sign = (bits & SignBit) != 0 };
        int biased = (int)(bits >> TFormat.FractionBits) & MaxBiasedExponent;
        ulong fraction = bits & FractionMask;
        if ((uint)(biased - 1) < (uint)(MaxBiasedExponent - 1))
        {
            u.Kind = FloatKind.Finite;
            u.Exponent = biased - Bias;
            u.Significand = (fraction | (1UL << TFormat.FractionBits)) << (UnpackedFloat.Point - TFormat.FractionBits);
            return u;
        }

        if (biased != 0)
        {
            u.Kind = fraction == 0 ? FloatKind.Infinity : (fraction & QuietBit) != 0 ? FloatKind.QuietNaN : FloatKind.SignalingNaN;
            return u;
        }

        if (fraction == 0)
        {
            u.Kind = FloatKind.Zero;
            return u;
        }

        // Subnormal: fraction × 2^(1 − bias − t); normalise so the leading one sits at bit 62.
        int shift = BitOperations.LeadingZeroCount(fraction) - (63 - UnpackedFloat.Point);
        u.Kind = FloatKind.Finite;
        u.Significand = fraction << shift;
        u.Exponent = 1 - Bias - (shift - (UnpackedFloat.Point - TFormat.FractionBits));
        return u;
    }
}
