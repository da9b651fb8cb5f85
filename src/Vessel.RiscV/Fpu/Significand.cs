using System.Runtime.CompilerServices;

namespace Vessel.RiscV.Fpu;

/// <summary>Exact integer operations on significands: sticky ("jamming") shifts, rounding, integer square root.</summary>
internal static class Significand
{
    /// <summary>Shifts right, ORing every bit shifted out into bit 0 so later rounding still sees a non-zero rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ShiftRightJam(ulong value, int count)
    {
        if (count >= 64)
        {
            return value != 0 ? 1UL : 0UL;
        }

        return (value >> count) | ((value & ((1UL << count) - 1)) != 0 ? 1UL : 0UL);
    }

    /// <summary>The 128-bit <see cref="ShiftRightJam(ulong, int)"/>.</summary>
    public static UInt128 ShiftRightJam(UInt128 value, int count)
    {
        if (count <= 0)
        {
            return value;
        }

        if (count >= 128)
        {
            return value != UInt128.Zero ? UInt128.One : UInt128.Zero;
        }

        return (value >> count) | ((value << (128 - count)) != UInt128.Zero ? UInt128.One : UInt128.Zero);
    }

    /// <summary>
    /// Rounds <paramref name="value"/> / 2^<paramref name="shift"/> (1 ≤ shift ≤ 63) to an integer in mode
    /// <paramref name="rm"/>, for a number of sign <paramref name="negative"/> (IEEE 754-2008 §4.3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong RoundShift(ulong value, int shift, bool negative, int rm, out bool inexact)
    {
        ulong kept = value >> shift;
        ulong rest = value & ((1UL << shift) - 1);
        inexact = rest != 0;
        if (!inexact)
        {
            return kept;
        }

        ulong half = 1UL << (shift - 1);
        bool up = rm switch
        {
            RoundingMode.NearestEven => rest > half || (rest == half && (kept & 1) != 0),
            RoundingMode.TowardZero => false,
            RoundingMode.Down => negative,
            RoundingMode.Up => !negative,
            _ => rest >= half,
        };
        return up ? kept + 1 : kept;
    }

    /// <summary>
    /// floor(√<paramref name="n"/>) for n &lt; 2^116, and whether it is exact. A double-precision estimate is
    /// within a few units of the root; one correction from the exact residual and a final ±1 step finish it.
    /// </summary>
    public static ulong SquareRoot(UInt128 n, out bool exact)
    {
        ulong root = (ulong)Math.Sqrt((double)n);
        if (root != 0)
        {
            long residual = (long)(Int128)(n - (UInt128)root * root);
            root = (ulong)((long)root + (long)Math.Round(residual / (2.0 * root)));
        }

        while ((UInt128)root * root > n)
        {
            root--;
        }

        while ((UInt128)(root + 1) * (root + 1) <= n)
        {
            root++;
        }

        exact = (UInt128)root * root == n;
        return root;
    }
}
