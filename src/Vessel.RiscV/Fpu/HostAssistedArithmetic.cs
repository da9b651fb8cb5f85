using System.Runtime.CompilerServices;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// Fast paths for the common case, on the host's IEEE 754 binary64 arithmetic (round to nearest even, no
/// flush-to-zero: what .NET guarantees). The host gives the nearest double s to the exact result x together with
/// an exact error term — TwoSum for a sum, an FMA residual for a product, quotient or square root (error-free
/// transformations) — whose sign tells on which side of s the exact result lies. That is all any rounding mode
/// needs, since no rounding boundary of the target format lies strictly between s and x. binary32 operations run
/// entirely in binary64, where their operands, products and error terms are exact; binary64 ones only while
/// every intermediate stays well inside the normal range. Anything else falls back to the integer core, so the
/// results and flags are identical to <see cref="FloatArithmetic{TFormat}"/>'s, bit for bit.
/// </summary>
internal static class HostAssistedArithmetic
{
    /// <summary>Lowest biased binary64 exponent of a fast-path result: keeps error terms clear of underflow.</summary>
    private const int LowExponent = 64;

    /// <summary>Highest biased binary64 exponent of a fast-path result: keeps a step of one ulp clear of overflow.</summary>
    private const int HighExponent = 0x7FD;

    private const uint SignBit32 = 1U << 31;
    private const uint Infinity32 = 0x7F80_0000;
    private const uint MinNormal32 = 0x0080_0000;

    public static ulong Add64(ulong a, ulong b, int rm, ref uint flags)
    {
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        double s = x + y;
        if (!InRange(s, 1))
        {
            return FloatArithmetic<Binary64>.Add(a, b, rm, ref flags);
        }

        return Finish64(s, TwoSumError(x, y, s), true, rm, ref flags);
    }

    public static ulong Mul64(ulong a, ulong b, int rm, ref uint flags)
    {
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        double p = x * y;
        if (!InRange(p, LowExponent))
        {
            return FloatArithmetic<Binary64>.Mul(a, b, rm, ref flags);
        }

        return Finish64(p, Math.FusedMultiplyAdd(x, y, -p), true, rm, ref flags);
    }

    public static ulong Div64(ulong a, ulong b, int rm, ref uint flags)
    {
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        double q = x / y;
        if (!InRange(q, LowExponent) || !InRange(x, LowExponent, 0x7FE))
        {
            return FloatArithmetic<Binary64>.Div(a, b, rm, ref flags);
        }

        // x = q·y + r exactly: the exact quotient is q + r/y, on the side of q that the sign of r/y says. A
        // quotient is never halfway between two doubles.
        double r = Math.FusedMultiplyAdd(-q, y, x);
        return Finish64(q, y < 0 ? -r : r, false, rm, ref flags);
    }

    public static ulong Sqrt64(ulong a, int rm, ref uint flags)
    {
        double x = BitConverter.UInt64BitsToDouble(a);
        if ((long)a < 0 || !InRange(x, LowExponent, 0x7FE))
        {
            return FloatArithmetic<Binary64>.Sqrt(a, rm, ref flags);
        }

        // x = q² + r exactly; the exact root lies on the side of q that r's sign says, and is never halfway.
        double q = Math.Sqrt(x);
        return Finish64(q, Math.FusedMultiplyAdd(-q, q, x), false, rm, ref flags);
    }

    public static uint Add32(uint a, uint b, int rm, ref uint flags)
    {
        double x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b);
        double s = x + y;
        if (!InRange(s, 1, 0x7FE))
        {
            return (uint)FloatArithmetic<Binary32>.Add(a, b, rm, ref flags);
        }

        return Finish32(s, Direction(TwoSumError(x, y, s)), rm, ref flags);
    }

    public static uint Mul32(uint a, uint b, int rm, ref uint flags)
    {
        double p = (double)BitConverter.UInt32BitsToSingle(a) * BitConverter.UInt32BitsToSingle(b); // exact: 48 bits
        if (!InRange(p, 1, 0x7FE))
        {
            return (uint)FloatArithmetic<Binary32>.Mul(a, b, rm, ref flags);
        }

        return Finish32(p, 0, rm, ref flags);
    }

    public static uint Div32(uint a, uint b, int rm, ref uint flags)
    {
        double x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b);
        double q = x / y;
        if (!InRange(q, 1, 0x7FE))
        {
            return (uint)FloatArithmetic<Binary32>.Div(a, b, rm, ref flags);
        }

        double r = Math.FusedMultiplyAdd(-q, y, x);
        return Finish32(q, y < 0 ? -Direction(r) : Direction(r), rm, ref flags);
    }

    public static uint Sqrt32(uint a, int rm, ref uint flags)
    {
        if (a - 1 >= Infinity32 - 1)
        {
            // Zero, negative, infinite or NaN.
            return (uint)FloatArithmetic<Binary32>.Sqrt(a, rm, ref flags);
        }

        double x = BitConverter.UInt32BitsToSingle(a);
        double q = Math.Sqrt(x);
        return Finish32(q, Direction(Math.FusedMultiplyAdd(-q, q, x)), rm, ref flags);
    }

    public static uint MulAdd32(uint a, uint b, uint c, int rm, ref uint flags)
    {
        double p = (double)BitConverter.UInt32BitsToSingle(a) * BitConverter.UInt32BitsToSingle(b); // exact
        double z = BitConverter.UInt32BitsToSingle(c);
        double s = p + z;
        if (!InRange(s, 1, 0x7FE))
        {
            return (uint)FusedMultiplyAdd<Binary32>.MulAdd(a, b, c, rm, ref flags);
        }

        return Finish32(s, Direction(TwoSumError(p, z, s)), rm, ref flags);
    }

    /// <summary>Whether <paramref name="d"/>'s biased exponent lies in [low, high] (so it is finite and non-zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool InRange(double d, int low, int high = HighExponent)
    {
        int exponent = (int)(BitConverter.DoubleToUInt64Bits(d) >> 52) & 0x7FF;
        return (uint)(exponent - low) <= (uint)(high - low);
    }

    /// <summary>The error of s = RN(a + b): a + b = s + error exactly (Knuth's TwoSum, no magnitude precondition).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double TwoSumError(double a, double b, double s)
    {
        double bPart = s - a;
        double aPart = s - bPart;
        return (a - aPart) + (b - bPart);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Direction(double error) => error > 0 ? 1 : error < 0 ? -1 : 0;

    /// <summary>
    /// The binary64 result for an exact value beside the normal double s (not near overflow): s + error when
    /// <paramref name="mayTie"/>, else a value on the side of s given by error's sign and never a tie.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Finish64(double s, double error, bool mayTie, int rm, ref uint flags)
    {
        ulong bits = BitConverter.DoubleToUInt64Bits(s);
        if (error == 0)
        {
            return bits;
        }

        flags |= FloatFlags.Inexact;
        if (rm == RoundingMode.NearestEven)
        {
            return bits;
        }

        if (rm == RoundingMode.NearestMaxMagnitude)
        {
            if (!mayTie)
            {
                return bits;
            }

            // Same as the host's rounding except at an exact tie, where the host took the even neighbour.
            double neighbour = error > 0 ? Math.BitIncrement(s) : Math.BitDecrement(s);
            bool tie = error == (neighbour - s) * 0.5;
            return tie && Math.Abs(neighbour) > Math.Abs(s) ? BitConverter.DoubleToUInt64Bits(neighbour) : bits;
        }

        return RoundNear<Binary64>(bits, Direction(error), rm, ref flags);
    }

    /// <summary>The binary32 result for an exact value on side <paramref name="direction"/> of the normal double s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Finish32(double s, int direction, int rm, ref uint flags)
    {
        ulong bits = BitConverter.DoubleToUInt64Bits(s);
        if (rm == RoundingMode.NearestEven)
        {
            // The host's conversion rounds s itself; that is the right answer unless s is exactly halfway between
            // two binary32 numbers while the exact value is not (bit 28 alone set in the 29 bits dropped).
            // Results at or below the smallest normal need the tininess test, and overflow the flags.
            uint f = BitConverter.SingleToUInt32Bits((float)s);
            uint magnitude = f & ~SignBit32;
            if (magnitude - (MinNormal32 + 1) < Infinity32 - (MinNormal32 + 1)
                && (direction == 0 || (bits & 0x1FFF_FFFF) != 0x1000_0000))
            {
                if (direction != 0 || (bits & 0x1FFF_FFFF) != 0)
                {
                    flags |= FloatFlags.Inexact;
                }

                return f;
            }
        }

        return (uint)RoundNear<Binary32>(bits, direction, rm, ref flags);
    }

    /// <summary>
    /// Rounds the value just beside the normal double <paramref name="bits"/> (above it in magnitude when
    /// <paramref name="direction"/> agrees with its sign, below when not, exactly it when 0) by giving the integer
    /// core s's significand with a sticky bit on the right side: one unit at bit 0, far below s's own last bit 10.
    /// </summary>
    private static ulong RoundNear<TFormat>(ulong bits, int direction, int rm, ref uint flags)
        where TFormat : struct, IFloatFormat
    {
        var s = FloatLayout<Binary64>.Unpack(bits);
        ulong significand = s.Significand;
        int exponent = s.Exponent;
        if (direction != 0)
        {
            if ((direction > 0) != s.Sign)
            {
                significand |= 1;
            }
            else if (significand == 1UL << UnpackedFloat.Point)
            {
                // Just below a power of two: renormalise one bit down.
                significand = (1UL << (UnpackedFloat.Point + 1)) - 1;
                exponent--;
            }
            else
            {
                significand--;
            }
        }

        return FloatRounding<TFormat>.RoundPack(s.Sign, exponent, significand, rm, ref flags);
    }
}
