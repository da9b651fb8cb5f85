using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// The single rounding step every operation ends in (IEEE 754-2008 §4.3, §7.4–7.6): an exact or sticky
/// intermediate is rounded to format <typeparamref name="TFormat"/> and packed, raising OF, UF and NX. RISC-V
/// detects tininess after rounding, and raises UF only when a tiny result is also inexact.
/// </summary>
internal static class FloatRounding<TFormat>
    where TFormat : struct, IFloatFormat
{
    /// <summary>Number of guard bits below the format's precision in the bit-62 working significand.</summary>
    private static int GuardBits => UnpackedFloat.Point - TFormat.FractionBits;

    /// <summary>
    /// Rounds sign × <paramref name="significand"/> × 2^(<paramref name="exponent"/> − 62) to the format, where
    /// the significand has its leading one at bit 62 and bit 0 is sticky (the OR of every bit below it).
    /// </summary>
    public static ulong RoundPack(bool sign, int exponent, ulong significand, int rm, ref uint flags)
    {
        int biased = exponent + FloatLayout<TFormat>.Bias;
        ulong signBit = FloatLayout<TFormat>.Zero(sign);
        if ((uint)(biased - 1) < (uint)(FloatLayout<TFormat>.MaxBiasedExponent - 1))
        {
            // Normal before rounding. The rounded significand k includes the hidden one, so adding it to the
            // exponent field minus one packs it; a carry out of rounding (k = 2^(t+1)) lands in the exponent.
            ulong k = Significand.RoundShift(significand, GuardBits, sign, rm, out bool inexact);
            ulong bits = ((ulong)(biased - 1) << TFormat.FractionBits) + k;
            if (bits >= FloatLayout<TFormat>.ExponentMask)
            {
                return Overflow(sign, rm, ref flags);
            }

            if (inexact)
            {
                flags |= FloatFlags.Inexact;
            }

            return signBit | bits;
        }

        if (biased > 0)
        {
            return Overflow(sign, rm, ref flags);
        }

        // Below the normal range. Tiny after rounding (§7.5) unless rounding to full precision with an unbounded
        // exponent would carry up to 2^emin, which only a value in [2^(emin−1), 2^emin) can do.
        bool tiny = biased < 0
            || Significand.RoundShift(significand, GuardBits, sign, rm, out _) < 1UL << (TFormat.FractionBits + 1);
        ulong denormal = Significand.ShiftRightJam(significand, 1 - biased);
        ulong fraction = Significand.RoundShift(denormal, GuardBits, sign, rm, out bool lost);
        if (lost)
        {
            flags |= tiny ? FloatFlags.Underflow | FloatFlags.Inexact : FloatFlags.Inexact;
        }

        // A carry into the hidden bit position yields the smallest normal, which this packing encodes as is.
        return signBit | fraction;
    }

    /// <summary>
    /// The overflowed result (§7.4): ±∞ when rounding to nearest or away from zero in the result's direction,
    /// otherwise the largest finite number of that sign.
    /// </summary>
    private static ulong Overflow(bool sign, int rm, ref uint flags)
    {
        flags |= FloatFlags.Overflow | FloatFlags.Inexact;
        bool toInfinity = rm switch
        {
            RoundingMode.TowardZero => false,
            RoundingMode.Down => sign,
            RoundingMode.Up => !sign,
            _ => true,
        };
        return toInfinity ? FloatLayout<TFormat>.Infinity(sign) : FloatLayout<TFormat>.MaxFinite(sign);
    }

    /// <summary>Rounds an integer of magnitude <paramref name="magnitude"/> to the format (zero stays +0).</summary>
    public static ulong RoundPackInteger(bool sign, ulong magnitude, int rm, ref uint flags)
    {
        if (magnitude == 0)
        {
            return 0;
        }

        int lz = BitOperations.LeadingZeroCount(magnitude);
        return lz == 0
            ? RoundPack(sign, 63, (magnitude >> 1) | (magnitude & 1), rm, ref flags)
            : RoundPack(sign, 63 - lz, magnitude << (lz - 1), rm, ref flags);
    }

    /// <summary>
    /// Rounds a 128-bit intermediate, value = <paramref name="value"/> × 2^(<paramref name="exponent"/> − 124)
    /// with bit 0 sticky, normalising it first (it may have any leading-one position, but is not zero).
    /// </summary>
    public static ulong RoundPackWide(bool sign, int exponent, UInt128 value, int rm, ref uint flags)
    {
        int top = 127 - (int)UInt128.LeadingZeroCount(value);
        ulong significand = top >= UnpackedFloat.Point
            ? (ulong)Significand.ShiftRightJam(value, top - UnpackedFloat.Point)
            : (ulong)value << (UnpackedFloat.Point - top);
        return RoundPack(sign, exponent + (top - 124), significand, rm, ref flags);
    }
}
