using System.Numerics;
using static Vessel.RiscV.Fpu.SoftFloatCore;

namespace Vessel.RiscV.Fpu;

/// <summary>Add, multiply, divide, square root and fused multiply-add (IEEE 754-2008 §5.4.1, §6).</summary>
public static partial class SoftFloat
{
    private static bool AnySignaling(in Unpacked a, in Unpacked b) => a.Kind == Kind.SignalingNaN || b.Kind == Kind.SignalingNaN;

    private static ulong InvalidResult(in FloatFormat f, ref uint flags)
    {
        flags |= Invalid;
        return f.CanonicalNaN;
    }

    private static ulong NaNResult(in Unpacked a, in Unpacked b, in FloatFormat f, ref uint flags)
    {
        if (AnySignaling(a, b))
        {
            flags |= Invalid;
        }

        return f.CanonicalNaN;
    }

    /// <summary>The sign of an exact zero sum of opposite-signed operands: +0, or −0 when rounding down (§6.3).</summary>
    private static ulong ExactZero(int rm, in FloatFormat f) => f.Zero(rm == Rdn);

    private static ulong Add(ulong aBits, ulong bBits, bool subtract, in FloatFormat f, int rm, ref uint flags)
    {
        var a = Unpack(aBits, f);
        var b = Unpack(bBits, f);
        if (a.IsNaN || b.IsNaN)
        {
            return NaNResult(a, b, f, ref flags);
        }

        b.Sign ^= subtract;
        if (a.Kind == Kind.Infinity || b.Kind == Kind.Infinity)
        {
            if (a.Kind == Kind.Infinity && b.Kind == Kind.Infinity && a.Sign != b.Sign)
            {
                return InvalidResult(f, ref flags);
            }

            return f.Infinity(a.Kind == Kind.Infinity ? a.Sign : b.Sign);
        }

        if (a.Kind == Kind.Zero || b.Kind == Kind.Zero)
        {
            if (a.Kind == Kind.Zero && b.Kind == Kind.Zero)
            {
                return a.Sign == b.Sign ? f.Zero(a.Sign) : ExactZero(rm, f);
            }

            // x + 0 is x exactly.
            return a.Kind == Kind.Zero ? bBits ^ (subtract ? f.SignBit : 0) : aBits;
        }

        return AddFinite(a, b, f, rm, ref flags);
    }

    private static ulong AddFinite(Unpacked a, Unpacked b, in FloatFormat f, int rm, ref uint flags)
    {
        if (a.Exp < b.Exp || (a.Exp == b.Exp && a.Sig < b.Sig))
        {
            (a, b) = (b, a);
        }

        ulong bSig = ShiftRightJam(b.Sig, a.Exp - b.Exp);
        if (a.Sign == b.Sign)
        {
            ulong sum = a.Sig + bSig;
            int exp = a.Exp;
            if ((sum >> 63) != 0)
            {
                sum = ShiftRightJam(sum, 1);
                exp++;
            }

            return RoundPack(a.Sign, exp, sum, f, rm, ref flags);
        }

        ulong diff = a.Sig - bSig;
        if (diff == 0)
        {
            return ExactZero(rm, f);
        }

        int lz = BitOperations.LeadingZeroCount(diff) - 1;
        return RoundPack(a.Sign, a.Exp - lz, diff << lz, f, rm, ref flags);
    }

    private static ulong Mul(ulong aBits, ulong bBits, in FloatFormat f, int rm, ref uint flags)
    {
        var a = Unpack(aBits, f);
        var b = Unpack(bBits, f);
        if (a.IsNaN || b.IsNaN)
        {
            return NaNResult(a, b, f, ref flags);
        }

        bool sign = a.Sign ^ b.Sign;
        if (a.Kind == Kind.Infinity || b.Kind == Kind.Infinity)
        {
            return a.Kind == Kind.Zero || b.Kind == Kind.Zero ? InvalidResult(f, ref flags) : f.Infinity(sign);
        }

        if (a.Kind == Kind.Zero || b.Kind == Kind.Zero)
        {
            return f.Zero(sign);
        }

        UInt128 product = (UInt128)a.Sig * b.Sig; // leading one at bit 124 or 125
        int msb = (product >> 125) != UInt128.Zero ? 125 : 124;
        return RoundPack(sign, a.Exp + b.Exp + (msb - 124), Narrow(product, msb), f, rm, ref flags);
    }

    private static ulong Div(ulong aBits, ulong bBits, in FloatFormat f, int rm, ref uint flags)
    {
        var a = Unpack(aBits, f);
        var b = Unpack(bBits, f);
        if (a.IsNaN || b.IsNaN)
        {
            return NaNResult(a, b, f, ref flags);
        }

        bool sign = a.Sign ^ b.Sign;
        if (a.Kind == Kind.Infinity)
        {
            return b.Kind == Kind.Infinity ? InvalidResult(f, ref flags) : f.Infinity(sign);
        }

        if (b.Kind == Kind.Infinity)
        {
            return f.Zero(sign);
        }

        if (b.Kind == Kind.Zero)
        {
            if (a.Kind == Kind.Zero)
            {
                return InvalidResult(f, ref flags);
            }

            flags |= DivideByZero;
            return f.Infinity(sign);
        }

        if (a.Kind == Kind.Zero)
        {
            return f.Zero(sign);
        }

        UInt128 dividend = (UInt128)a.Sig << 64;
        UInt128 quotient = dividend / b.Sig; // in (2^63, 2^65)
        bool inexact = quotient * b.Sig != dividend;
        int msb = (quotient >> 64) != UInt128.Zero ? 64 : 63;
        ulong sig = Narrow(quotient, msb) | (inexact ? 1UL : 0UL);
        return RoundPack(sign, a.Exp - b.Exp - (64 - msb), sig, f, rm, ref flags);
    }

    private static ulong Sqrt(ulong aBits, in FloatFormat f, int rm, ref uint flags)
    {
        var a = Unpack(aBits, f);
        if (a.IsNaN)
        {
            return NaNResult(a, a, f, ref flags);
        }

        if (a.Kind == Kind.Zero)
        {
            return aBits; // sqrt(±0) = ±0
        }

        if (a.Sign)
        {
            return InvalidResult(f, ref flags);
        }

        if (a.Kind == Kind.Infinity)
        {
            return aBits;
        }

        // value = sig × 2^(e−62); make the exponent even so the root's exponent is exact.
        int e = a.Exp;
        UInt128 radicand = (UInt128)a.Sig << ((e & 1) == 0 ? 62 : 63);
        int rootExp = (e & 1) == 0 ? e / 2 : (e - 1) / 2;
        ulong root = SquareRoot(radicand, out bool exact); // leading one at bit 62
        return RoundPack(false, rootExp, root | (exact ? 0UL : 1UL), f, rm, ref flags);
    }

    private static ulong MulAdd(ulong aBits, ulong bBits, ulong cBits, in FloatFormat f, int rm, ref uint flags)
    {
        var a = Unpack(aBits, f);
        var b = Unpack(bBits, f);
        var c = Unpack(cBits, f);
        bool productInvalid = (a.Kind == Kind.Infinity && b.Kind == Kind.Zero) || (a.Kind == Kind.Zero && b.Kind == Kind.Infinity);
        if (a.IsNaN || b.IsNaN || c.IsNaN)
        {
            // RISC-V 20.7: ∞ × 0 raises NV even when the addend is a quiet NaN.
            if (AnySignaling(a, b) || c.Kind == Kind.SignalingNaN || productInvalid)
            {
                flags |= Invalid;
            }

            return f.CanonicalNaN;
        }

        if (productInvalid)
        {
            return InvalidResult(f, ref flags);
        }

        bool productSign = a.Sign ^ b.Sign;
        if (a.Kind == Kind.Infinity || b.Kind == Kind.Infinity)
        {
            return c.Kind == Kind.Infinity && c.Sign != productSign ? InvalidResult(f, ref flags) : f.Infinity(productSign);
        }

        if (c.Kind == Kind.Infinity)
        {
            return cBits;
        }

        if (a.Kind == Kind.Zero || b.Kind == Kind.Zero)
        {
            if (c.Kind == Kind.Zero)
            {
                return productSign == c.Sign ? f.Zero(c.Sign) : ExactZero(rm, f);
            }

            return cBits;
        }

        // Exact product: value = P × 2^(pe − 124), leading one at bit 124 or 125.
        UInt128 product = (UInt128)a.Sig * b.Sig;
        int productExp = a.Exp + b.Exp;
        if (c.Kind == Kind.Zero)
        {
            int msb = (product >> 125) != UInt128.Zero ? 125 : 124;
            return RoundPack(productSign, productExp + (msb - 124), Narrow(product, msb), f, rm, ref flags);
        }

        // Addend on the same scale, C × 2^(ce − 124); align both to the larger exponent (one of them is exact).
        UInt128 addend = (UInt128)c.Sig << 62;
        int exp = Math.Max(productExp, c.Exp);
        UInt128 p = ShiftRightJam(product, exp - productExp);
        UInt128 q = ShiftRightJam(addend, exp - c.Exp);
        UInt128 result;
        bool sign;
        if (productSign == c.Sign)
        {
            result = p + q;
            sign = productSign;
        }
        else if (p >= q)
        {
            result = p - q;
            sign = productSign;
        }
        else
        {
            result = q - p;
            sign = c.Sign;
        }

        if (result == UInt128.Zero)
        {
            return ExactZero(rm, f);
        }

        int top = 127 - (int)UInt128.LeadingZeroCount(result);
        return RoundPack(sign, exp + (top - 124), Narrow(result, top), f, rm, ref flags);
    }
}
