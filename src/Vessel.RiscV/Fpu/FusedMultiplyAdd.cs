namespace Vessel.RiscV.Fpu;

/// <summary>
/// a × b + c with a single rounding (IEEE 754-2008 §5.4.1 fusedMultiplyAdd; RISC-V F chapter, FMADD). The
/// product is formed exactly in 128 bits and the addend aligned to it, so only the final sum is ever rounded.
/// </summary>
internal static class FusedMultiplyAdd<TFormat>
    where TFormat : struct, IFloatFormat
{
    public static ulong MulAdd(ulong aBits, ulong bBits, ulong cBits, int rm, ref uint flags)
    {
        var a = FloatLayout<TFormat>.Unpack(aBits);
        var b = FloatLayout<TFormat>.Unpack(bBits);
        var c = FloatLayout<TFormat>.Unpack(cBits);
        bool productSign = a.Sign ^ b.Sign;
        if (a.Kind == FloatKind.Finite && b.Kind == FloatKind.Finite && c.Kind != FloatKind.Infinity && !c.IsNaN)
        {
            return MulAddFinite(a, b, c, productSign, rm, ref flags);
        }

        bool zeroTimesInfinity = (a.Kind == FloatKind.Infinity && b.Kind == FloatKind.Zero)
            || (a.Kind == FloatKind.Zero && b.Kind == FloatKind.Infinity);
        if (a.IsNaN || b.IsNaN || c.IsNaN)
        {
            // RISC-V F chapter, FMADD: ∞ × 0 raises NV even when the addend is a quiet NaN.
            if (a.IsSignalingNaN || b.IsSignalingNaN || c.IsSignalingNaN || zeroTimesInfinity)
            {
                flags |= FloatFlags.Invalid;
            }

            return FloatLayout<TFormat>.CanonicalNaN;
        }

        if (zeroTimesInfinity)
        {
            return FloatArithmetic<TFormat>.Invalid(ref flags);
        }

        if (a.Kind == FloatKind.Infinity || b.Kind == FloatKind.Infinity)
        {
            return c.Kind == FloatKind.Infinity && c.Sign != productSign
                ? FloatArithmetic<TFormat>.Invalid(ref flags) // ∞ − ∞
                : FloatLayout<TFormat>.Infinity(productSign);
        }

        if (c.Kind == FloatKind.Infinity)
        {
            return cBits;
        }

        // The product is an exact zero and c is zero or finite.
        if (c.Kind == FloatKind.Zero)
        {
            return productSign == c.Sign ? cBits : FloatArithmetic<TFormat>.ExactZeroSum(rm);
        }

        return cBits;
    }

    private static ulong MulAddFinite(in UnpackedFloat a, in UnpackedFloat b, in UnpackedFloat c, bool productSign, int rm, ref uint flags)
    {
        // Exact product P × 2^(pe − 124) with P in [2^124, 2^126).
        UInt128 product = new(Math.BigMul(a.Significand, b.Significand, out ulong low), low);
        int productExponent = a.Exponent + b.Exponent;
        if (c.Kind == FloatKind.Zero)
        {
            // Non-zero product plus ±0 is the product, whatever the zero's sign.
            return FloatRounding<TFormat>.RoundPackWide(productSign, productExponent, product, rm, ref flags);
        }

        // Addend C × 2^(ce − 124) with C in [2^124, 2^125). Align both to the larger exponent: the shifted operand
        // loses bits (into the sticky bit) only when shifted far enough that the sum cannot cancel below bit 123,
        // because both operands carry at least 20 trailing zero bits.
        UInt128 addend = (UInt128)c.Significand << UnpackedFloat.Point;
        int exponent = Math.Max(productExponent, c.Exponent);
        UInt128 p = Significand.ShiftRightJam(product, exponent - productExponent);
        UInt128 q = Significand.ShiftRightJam(addend, exponent - c.Exponent);
        UInt128 sum;
        bool sign;
        if (productSign == c.Sign)
        {
            sum = p + q;
            sign = productSign;
        }
        else if (p >= q)
        {
            sum = p - q;
            sign = productSign;
        }
        else
        {
            sum = q - p;
            sign = c.Sign;
        }

        if (sum == UInt128.Zero)
        {
            return FloatArithmetic<TFormat>.ExactZeroSum(rm);
        }

        return FloatRounding<TFormat>.RoundPackWide(sign, exponent, sum, rm, ref flags);
    }
}
