using System.Numerics;

namespace Vessel.RiscV.Fpu;

/// <summary>
/// Addition, multiplication, division and square root in format <typeparamref name="TFormat"/>, each computed
/// exactly (or with a sticky bit) and rounded once (IEEE 754-2008 §5.4.1; RISC-V F chapter, "Single-Precision
/// Floating-Point Computational Instructions"). Every NaN result is the canonical NaN.
/// </summary>
internal static class FloatArithmetic<TFormat>
    where TFormat : struct, IFloatFormat
{
    /// <summary>The result of an operation with a NaN operand: canonical NaN, NV if any operand signals.</summary>
    public static ulong PropagateNaN(in UnpackedFloat a, in UnpackedFloat b, ref uint flags)
    {
        if (a.IsSignalingNaN || b.IsSignalingNaN)
        {
            flags |= FloatFlags.Invalid;
        }

        return FloatLayout<TFormat>.CanonicalNaN;
    }

    /// <summary>An invalid operation (§7.2): NV and the canonical NaN.</summary>
    public static ulong Invalid(ref uint flags)
    {
        flags |= FloatFlags.Invalid;
        return FloatLayout<TFormat>.CanonicalNaN;
    }

    /// <summary>An exact zero sum of operands of opposite sign: +0, or −0 when rounding down (§6.3).</summary>
    public static ulong ExactZeroSum(int rm) => FloatLayout<TFormat>.Zero(rm == RoundingMode.Down);

    public static ulong Add(ulong aBits, ulong bBits, int rm, ref uint flags)
    {
        var a = FloatLayout<TFormat>.Unpack(aBits);
        var b = FloatLayout<TFormat>.Unpack(bBits);
        if (a.Kind == FloatKind.Finite && b.Kind == FloatKind.Finite)
        {
            return AddFinite(a, b, rm, ref flags);
        }

        if (a.IsNaN || b.IsNaN)
        {
            return PropagateNaN(a, b, ref flags);
        }

        if (a.Kind == FloatKind.Infinity || b.Kind == FloatKind.Infinity)
        {
            if (a.Kind == b.Kind && a.Sign != b.Sign)
            {
                return Invalid(ref flags); // ∞ − ∞
            }

            return a.Kind == FloatKind.Infinity ? aBits : bBits;
        }

        if (a.Kind == FloatKind.Zero && b.Kind == FloatKind.Zero)
        {
            return a.Sign == b.Sign ? aBits : ExactZeroSum(rm);
        }

        return a.Kind == FloatKind.Zero ? bBits : aBits; // x + 0 = x exactly
    }

    private static ulong AddFinite(UnpackedFloat a, UnpackedFloat b, int rm, ref uint flags)
    {
        if (a.Exponent < b.Exponent || (a.Exponent == b.Exponent && a.Significand < b.Significand))
        {
            (a, b) = (b, a);
        }

        // |a| ≥ |b|. Aligning b may drop bits into the sticky bit; that matters only when the exponents differ by
        // two or more, and then a difference loses at most one leading bit, so the sticky bit stays a guard bit.
        ulong bSignificand = Significand.ShiftRightJam(b.Significand, a.Exponent - b.Exponent);
        if (a.Sign == b.Sign)
        {
            ulong sum = a.Significand + bSignificand;
            if (sum >> (UnpackedFloat.Point + 1) != 0)
            {
                return FloatRounding<TFormat>.RoundPack(a.Sign, a.Exponent + 1, (sum >> 1) | (sum & 1), rm, ref flags);
            }

            return FloatRounding<TFormat>.RoundPack(a.Sign, a.Exponent, sum, rm, ref flags);
        }

        ulong difference = a.Significand - bSignificand;
        if (difference == 0)
        {
            return ExactZeroSum(rm);
        }

        int shift = BitOperations.LeadingZeroCount(difference) - (63 - UnpackedFloat.Point);
        return FloatRounding<TFormat>.RoundPack(a.Sign, a.Exponent - shift, difference << shift, rm, ref flags);
    }

    public static ulong Mul(ulong aBits, ulong bBits, int rm, ref uint flags)
    {
        var a = FloatLayout<TFormat>.Unpack(aBits);
        var b = FloatLayout<TFormat>.Unpack(bBits);
        bool sign = a.Sign ^ b.Sign;
        if (a.Kind == FloatKind.Finite && b.Kind == FloatKind.Finite)
        {
            // Both significands in [2^63, 2^64) after a shift: the 128-bit product is in [2^126, 2^128) and its
            // high word, with the low word folded into the sticky bit, has its leading one at bit 62 or 63.
            ulong high = Math.BigMul(a.Significand << 1, b.Significand << 1, out ulong low);
            high |= low != 0 ? 1UL : 0UL;
            int exponent = a.Exponent + b.Exponent;
            if ((long)high < 0)
            {
                return FloatRounding<TFormat>.RoundPack(sign, exponent + 1, (high >> 1) | (high & 1), rm, ref flags);
            }

            return FloatRounding<TFormat>.RoundPack(sign, exponent, high, rm, ref flags);
        }

        if (a.IsNaN || b.IsNaN)
        {
            return PropagateNaN(a, b, ref flags);
        }

        if (a.Kind == FloatKind.Infinity || b.Kind == FloatKind.Infinity)
        {
            return a.Kind == FloatKind.Zero || b.Kind == FloatKind.Zero ? Invalid(ref flags) : FloatLayout<TFormat>.Infinity(sign);
        }

        return FloatLayout<TFormat>.Zero(sign);
    }

    public static ulong Div(ulong aBits, ulong bBits, int rm, ref uint flags)
    {
        var a = FloatLayout<TFormat>.Unpack(aBits);
        var b = FloatLayout<TFormat>.Unpack(bBits);
        bool sign = a.Sign ^ b.Sign;
        if (a.Kind == FloatKind.Finite && b.Kind == FloatKind.Finite)
        {
            // q = floor(a·2^s / b) with s chosen so q lands in [2^62, 2^63); a non-zero remainder is the sticky bit.
            bool smaller = a.Significand < b.Significand;
            UInt128 dividend = (UInt128)a.Significand << (smaller ? UnpackedFloat.Point + 1 : UnpackedFloat.Point);
            UInt128 quotient = dividend / b.Significand;
            ulong q = (ulong)quotient;
            if ((UInt128)q * b.Significand != dividend)
            {
                q |= 1;
            }

            return FloatRounding<TFormat>.RoundPack(sign, a.Exponent - b.Exponent - (smaller ? 1 : 0), q, rm, ref flags);
        }

        if (a.IsNaN || b.IsNaN)
        {
            return PropagateNaN(a, b, ref flags);
        }

        if (a.Kind == FloatKind.Infinity)
        {
            return b.Kind == FloatKind.Infinity ? Invalid(ref flags) : FloatLayout<TFormat>.Infinity(sign); // ∞/∞
        }

        if (b.Kind == FloatKind.Zero)
        {
            if (a.Kind == FloatKind.Zero)
            {
                return Invalid(ref flags); // 0/0
            }

            flags |= FloatFlags.DivideByZero; // finite non-zero / 0 (§7.3)
            return FloatLayout<TFormat>.Infinity(sign);
        }

        return FloatLayout<TFormat>.Zero(sign); // 0/finite, finite/∞
    }

    public static ulong Sqrt(ulong aBits, int rm, ref uint flags)
    {
        var a = FloatLayout<TFormat>.Unpack(aBits);
        switch (a.Kind)
        {
            case FloatKind.QuietNaN:
            case FloatKind.SignalingNaN:
                return PropagateNaN(a, a, ref flags);
            case FloatKind.Zero:
                return aBits; // √±0 = ±0 (§5.4.1)
            case FloatKind.Infinity when !a.Sign:
                return aBits;
        }

        if (a.Sign)
        {
            return Invalid(ref flags); // negative non-zero, including −∞
        }

        // The integer significand m = sig / 2^guard is exact; with n = m·2^k, k ∈ {t+4, t+5} chosen to make the
        // exponent of 2 even, √n has t+3 bits: the precision, a round bit and one more, plus exactness as the sticky.
        int t = TFormat.FractionBits;
        ulong m = a.Significand >> (UnpackedFloat.Point - t);
        int k = t + 4 + (a.Exponent & 1);
        ulong root = Significand.SquareRoot((UInt128)m << k, out bool exact);
        ulong significand = (root << (UnpackedFloat.Point - (t + 2))) | (exact ? 0UL : 1UL);
        int exponent = ((a.Exponent - t - k) >> 1) + t + 2;
        return FloatRounding<TFormat>.RoundPack(false, exponent, significand, rm, ref flags);
    }
}
