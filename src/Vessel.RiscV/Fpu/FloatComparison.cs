using System.Runtime.CompilerServices;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// Comparisons, minimum/maximum and classification in format <typeparamref name="TFormat"/> (RISC-V F chapter,
/// "Single-Precision Floating-Point Compare Instructions" and "Classify Instruction"; IEEE 754-2008 §5.11).
/// </summary>
internal static class FloatComparison<TFormat>
    where TFormat : struct, IFloatFormat
{
    /// <summary>
    /// A key that orders non-NaN encodings numerically: sign-magnitude to two's complement, so −0 and +0 are equal.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long OrderKey(ulong bits)
    {
        long magnitude = (long)(bits & ~FloatLayout<TFormat>.SignBit);
        return (bits & FloatLayout<TFormat>.SignBit) != 0 ? -magnitude : magnitude;
    }

    /// <summary>FEQ: a quiet comparison, NV only for a signalling NaN operand.</summary>
    public static bool Equal(ulong a, ulong b, ref uint flags)
    {
        if (FloatLayout<TFormat>.IsNaN(a) || FloatLayout<TFormat>.IsNaN(b))
        {
            if (FloatLayout<TFormat>.IsSignalingNaN(a) || FloatLayout<TFormat>.IsSignalingNaN(b))
            {
                flags |= FloatFlags.Invalid;
            }

            return false;
        }

        return OrderKey(a) == OrderKey(b);
    }

    /// <summary>FLT (or FLE with <paramref name="orEqual"/>): signalling comparisons, NV for any NaN operand.</summary>
    public static bool Less(ulong a, ulong b, bool orEqual, ref uint flags)
    {
        if (FloatLayout<TFormat>.IsNaN(a) || FloatLayout<TFormat>.IsNaN(b))
        {
            flags |= FloatFlags.Invalid;
            return false;
        }

        long ka = OrderKey(a), kb = OrderKey(b);
        return orEqual ? ka <= kb : ka < kb;
    }

    /// <summary>
    /// FMIN/FMAX as of F version 2.2: IEEE 754-2019 minimumNumber/maximumNumber. A NaN operand yields the other
    /// operand, two NaNs the canonical NaN, −0 orders below +0, and only a signalling NaN raises NV.
    /// </summary>
    public static ulong MinMax(ulong a, ulong b, bool max, ref uint flags)
    {
        bool aNaN = FloatLayout<TFormat>.IsNaN(a), bNaN = FloatLayout<TFormat>.IsNaN(b);
        if (aNaN || bNaN)
        {
            if (FloatLayout<TFormat>.IsSignalingNaN(a) || FloatLayout<TFormat>.IsSignalingNaN(b))
            {
                flags |= FloatFlags.Invalid;
            }

            return aNaN && bNaN ? FloatLayout<TFormat>.CanonicalNaN : aNaN ? b : a;
        }

        long ka = OrderKey(a), kb = OrderKey(b);
        if (ka == kb)
        {
            // Equal values differ in encoding only for ±0: the minimum is the one with the sign bit set.
            return max ? a & b : a | b;
        }

        return (ka < kb) ^ max ? a : b;
    }

    /// <summary>FCLASS: a mask with exactly one of ten bits set.</summary>
    public static ulong Classify(ulong bits)
    {
        bool negative = (bits & FloatLayout<TFormat>.SignBit) != 0;
        ulong exponent = bits & FloatLayout<TFormat>.ExponentMask;
        ulong fraction = bits & FloatLayout<TFormat>.FractionMask;
        int bit;
        if (exponent == FloatLayout<TFormat>.ExponentMask)
        {
            bit = fraction == 0 ? (negative ? 0 : 7) : (fraction & FloatLayout<TFormat>.QuietBit) != 0 ? 9 : 8;
        }
        else if (exponent == 0)
        {
            bit = fraction == 0 ? (negative ? 3 : 4) : (negative ? 2 : 5);
        }
        else
        {
            bit = negative ? 1 : 6;
        }

        return 1UL << bit;
    }
}
