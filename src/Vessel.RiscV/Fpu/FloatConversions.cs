namespace Vessel.RiscV.Fpu;

/// <summary>
/// Conversions between formats and between floating point and integers (RISC-V F chapter, "Single-Precision
/// Floating-Point Conversion and Move Instructions", and D chapter, "Double-Precision Floating-Point Conversion
/// and Move Instructions"; IEEE 754-2008 §5.4.1, §5.8).
/// </summary>
internal static class FloatConversions
{
    /// <summary>FCVT.S.D and FCVT.D.S: NaNs become the canonical NaN (NV if signalling), finite values are rounded.</summary>
    public static ulong Convert<TFrom, TTo>(ulong bits, int rm, ref uint flags)
        where TFrom : struct, IFloatFormat
        where TTo : struct, IFloatFormat
    {
        var u = FloatLayout<TFrom>.Unpack(bits);
        switch (u.Kind)
        {
            case FloatKind.Finite:
                return FloatRounding<TTo>.RoundPack(u.Sign, u.Exponent, u.Significand, rm, ref flags);
            case FloatKind.Zero:
                return FloatLayout<TTo>.Zero(u.Sign);
            case FloatKind.Infinity:
                return FloatLayout<TTo>.Infinity(u.Sign);
            case FloatKind.SignalingNaN:
                flags |= FloatFlags.Invalid;
                return FloatLayout<TTo>.CanonicalNaN;
            default:
                return FloatLayout<TTo>.CanonicalNaN;
        }
    }

    /// <summary>FCVT from a signed integer: rounded per <paramref name="rm"/>, NX when inexact.</summary>
    public static ulong FromSigned<TFormat>(long value, int rm, ref uint flags)
        where TFormat : struct, IFloatFormat =>
        FloatRounding<TFormat>.RoundPackInteger(value < 0, value < 0 ? 0UL - (ulong)value : (ulong)value, rm, ref flags);

    /// <summary>FCVT from an unsigned integer: rounded per <paramref name="rm"/>, NX when inexact.</summary>
    public static ulong FromUnsigned<TFormat>(ulong value, int rm, ref uint flags)
        where TFormat : struct, IFloatFormat =>
        FloatRounding<TFormat>.RoundPackInteger(false, value, rm, ref flags);

    /// <summary>
    /// FCVT to a signed integer of <paramref name="width"/> bits (32 or 64), as a sign-extended 64-bit value.
    /// Out-of-range inputs saturate and raise NV but not NX: NaN and too-large values (+∞ too) give the maximum,
    /// too-small values (−∞ too) the minimum (F chapter, table "Domains of float-to-integer conversions").
    /// </summary>
    public static long ToSigned<TFormat>(ulong bits, int width, int rm, ref uint flags)
        where TFormat : struct, IFloatFormat
    {
        long max = (long)(ulong.MaxValue >> (65 - width));
        var u = FloatLayout<TFormat>.Unpack(bits);
        if (u.IsNaN)
        {
            flags |= FloatFlags.Invalid;
            return max;
        }

        bool overflow = !RoundToInteger(u, rm, out ulong magnitude, out bool inexact);
        ulong limit = u.Sign ? (ulong)max + 1 : (ulong)max;
        if (overflow || magnitude > limit)
        {
            flags |= FloatFlags.Invalid;
            return u.Sign ? -max - 1 : max;
        }

        if (inexact)
        {
            flags |= FloatFlags.Inexact;
        }

        return u.Sign ? (long)(0UL - magnitude) : (long)magnitude;
    }

    /// <summary>
    /// FCVT to an unsigned integer of <paramref name="width"/> bits (32 or 64), zero-extended. A negative input
    /// that rounds to zero is in range (NX only); one that rounds to −1 or below saturates to 0 with NV.
    /// </summary>
    public static ulong ToUnsigned<TFormat>(ulong bits, int width, int rm, ref uint flags)
        where TFormat : struct, IFloatFormat
    {
        ulong max = ulong.MaxValue >> (64 - width);
        var u = FloatLayout<TFormat>.Unpack(bits);
        if (u.IsNaN)
        {
            flags |= FloatFlags.Invalid;
            return max;
        }

        bool overflow = !RoundToInteger(u, rm, out ulong magnitude, out bool inexact);
        if (overflow || (u.Sign ? magnitude != 0 : magnitude > max))
        {
            flags |= FloatFlags.Invalid;
            return u.Sign ? 0 : max;
        }

        if (inexact)
        {
            flags |= FloatFlags.Inexact;
        }

        return magnitude;
    }

    /// <summary>
    /// Rounds the magnitude of a non-NaN value to an integer in mode <paramref name="rm"/> (the direction taking
    /// the sign into account). Returns false when the magnitude is at least 2^64 (including ∞).
    /// </summary>
    private static bool RoundToInteger(in UnpackedFloat u, int rm, out ulong magnitude, out bool inexact)
    {
        inexact = false;
        switch (u.Kind)
        {
            case FloatKind.Zero:
                magnitude = 0;
                return true;
            case FloatKind.Infinity:
                magnitude = 0;
                return false;
        }

        // value = sig × 2^(e − 62) with sig in [2^62, 2^63).
        if (u.Exponent >= 64)
        {
            magnitude = 0;
            return false;
        }

        if (u.Exponent >= UnpackedFloat.Point)
        {
            magnitude = u.Significand << (u.Exponent - UnpackedFloat.Point);
            return true;
        }

        int shift = UnpackedFloat.Point - u.Exponent;
        if (shift > 63)
        {
            // Below one half: only a directed rounding away from zero gives a non-zero result.
            inexact = true;
            bool up = rm == RoundingMode.Up ? !u.Sign : rm == RoundingMode.Down && u.Sign;
            magnitude = up ? 1UL : 0UL;
            return true;
        }

        magnitude = Significand.RoundShift(u.Significand, shift, u.Sign, rm, out inexact);
        return true;
    }
}
