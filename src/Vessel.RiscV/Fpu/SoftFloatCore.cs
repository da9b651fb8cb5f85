using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// The format-independent core of <see cref="SoftFloat"/>: unpacking, exact significand arithmetic helpers and
/// the single rounding step (IEEE 754-2008 §4.3 rounding, §7 exceptions; RISC-V detects tininess after rounding).
/// Finite non-zero values are held as sign, unbiased exponent e and a significand with its leading one at bit 62:
/// value = sig × 2^(e − 62). Bits below the format's precision are guard bits, with the lowest as a sticky bit.
/// </summary>
internal static class SoftFloatCore
{
    public const uint Invalid = 0x10;
    public const uint DivideByZero = 0x08;
    public const uint Overflow = 0x04;
    public const uint Underflow = 0x02;
    public const uint Inexact = 0x01;

    public const int Rne = 0;
    public const int Rtz = 1;
    public const int Rdn = 2;
    public const int Rup = 3;
    public const int Rmm = 4;

    public enum Kind
    {
        Zero,
        Finite,
        Infinity,
        QuietNaN,
        SignalingNaN,
    }

    public struct Unpacked
    {
        public Kind Kind;
        public bool Sign;
        public int Exp;
        public ulong Sig;

        public readonly bool IsNaN => Kind >= Kind.QuietNaN;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Unpacked Unpack(ulong bits, in FloatFormat f)
    {
        var u = new Unpacked { Sign = (bits >> f.SignShift) != 0 };
        int biased = (int)((bits >> f.FractionBits) & (ulong)f.MaxBiasedExponent);
        ulong fraction = bits & f.FractionMask;
        if (biased == f.MaxBiasedExponent)
        {
            u.Kind = fraction == 0 ? Kind.Infinity : (fraction >> (f.FractionBits - 1)) != 0 ? Kind.QuietNaN : Kind.SignalingNaN;
            return u;
        }

        if (biased == 0)
        {
            if (fraction == 0)
            {
                u.Kind = Kind.Zero;
                return u;
            }

            // Subnormal: normalise so the leading one sits at bit 62.
            int lz = BitOperations.LeadingZeroCount(fraction) - 1;
            u.Kind = Kind.Finite;
            u.Sig = fraction << lz;
            u.Exp = 1 - f.Bias - (lz - (62 - f.FractionBits));
            return u;
        }

        u.Kind = Kind.Finite;
        u.Sig = (fraction | (1UL << f.FractionBits)) << (62 - f.FractionBits);
        u.Exp = biased - f.Bias;
        return u;
    }

    /// <summary>Shifts right, ORing every bit shifted out into bit 0 so rounding still sees them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ShiftRightJam(ulong value, int count)
    {
        if (count <= 0)
        {
            return value;
        }

        if (count >= 64)
        {
            return value != 0 ? 1UL : 0UL;
        }

        return (value >> count) | ((value << (64 - count)) != 0 ? 1UL : 0UL);
    }

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

    /// <summary>Narrows a 128-bit significand whose leading one is at bit <paramref name="msb"/> to the bit-62 convention.</summary>
    public static ulong Narrow(UInt128 value, int msb) => (ulong)ShiftRightJam(value, msb - 62);

    /// <summary>Rounds <paramref name="sig"/> >> <paramref name="shift"/> to an integer in mode <paramref name="rm"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong RoundShift(ulong sig, int shift, bool sign, int rm)
    {
        ulong kept = sig >> shift;
        ulong rest = sig & ((1UL << shift) - 1);
        if (rest == 0)
        {
            return kept;
        }

        ulong half = 1UL << (shift - 1);
        bool up = rm switch
        {
            Rne => rest > half || (rest == half && (kept & 1) != 0),
            Rtz => false,
            Rdn => sign,
            Rup => !sign,
            _ => rest >= half,
        };
        return up ? kept + 1 : kept;
    }

    /// <summary>
    /// Rounds value = sig × 2^(exp − 62) (sig ≠ 0, leading one at bit 62) to the format, raising OF/UF/NX.
    /// </summary>
    public static ulong RoundPack(bool sign, int exp, ulong sig, in FloatFormat f, int rm, ref uint flags)
    {
        int shift = 62 - f.FractionBits;
        ulong signBits = sign ? f.SignBit : 0;
        int biased = exp + f.Bias;
        if (biased <= 0)
        {
            // Tininess after rounding: tiny unless rounding to full precision with unbounded exponent reaches 2^emin.
            bool tiny = biased < 0 || RoundShift(sig, shift, sign, rm) != (1UL << (f.FractionBits + 1));
            ulong denormal = ShiftRightJam(sig, 1 - biased);
            ulong rounded = RoundShift(denormal, shift, sign, rm);
            if ((denormal & ((1UL << shift) - 1)) != 0)
            {
                flags |= Inexact | (tiny ? Underflow : 0);
            }

            // A carry into bit FractionBits makes the smallest normal, which this packing encodes naturally.
            return signBits | rounded;
        }

        ulong k = RoundShift(sig, shift, sign, rm);
        if (k == 1UL << (f.FractionBits + 1))
        {
            k >>= 1;
            biased++;
        }

        if (biased >= f.MaxBiasedExponent)
        {
            flags |= Overflow | Inexact;
            bool toInfinity = rm switch
            {
                Rtz => false,
                Rdn => sign,
                Rup => !sign,
                _ => true,
            };
            return toInfinity ? f.Infinity(sign) : f.MaxFinite(sign);
        }

        if ((sig & ((1UL << shift) - 1)) != 0)
        {
            flags |= Inexact;
        }

        return signBits | ((ulong)biased << f.FractionBits) | (k & f.FractionMask);
    }

    /// <summary>Normalises a non-zero 64-bit magnitude into the bit-62 convention and rounds it.</summary>
    public static ulong RoundPackInteger(bool sign, ulong magnitude, in FloatFormat f, int rm, ref uint flags)
    {
        if (magnitude == 0)
        {
            return 0;
        }

        int lz = BitOperations.LeadingZeroCount(magnitude);
        ulong sig = lz >= 1 ? magnitude << (lz - 1) : ShiftRightJam(magnitude, 1);
        return RoundPack(sign, 63 - lz, sig, f, rm, ref flags);
    }

    /// <summary>Integer square root of a 128-bit value (floor), by Newton's iteration from a double estimate.</summary>
    public static ulong SquareRoot(UInt128 n, out bool exact)
    {
        ulong x = (ulong)Math.Sqrt((double)n);
        for (int i = 0; i < 2 && x != 0; i++)
        {
            x = (ulong)(((UInt128)x + (n / x)) >> 1);
        }

        // Correct the estimate to floor(sqrt(n)).
        while (x > 0 && (UInt128)x * x > n)
        {
            x--;
        }

        while ((UInt128)(x + 1) * (x + 1) <= n)
        {
            x++;
        }

        exact = (UInt128)x * x == n;
        return x;
    }
}
