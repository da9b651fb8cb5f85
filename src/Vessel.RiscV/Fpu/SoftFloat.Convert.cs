using static Vessel.RiscV.Fpu.SoftFloatCore;

namespace Vessel.RiscV.Fpu;

/// <summary>Conversions between formats and to and from integers (unprivileged spec 20.7, 21.4).</summary>
public static partial class SoftFloat
{
    private static ulong FromSigned(long v, in FloatFormat f, int rm, ref uint flags) =>
        RoundPackInteger(v < 0, v < 0 ? 0UL - (ulong)v : (ulong)v, f, rm, ref flags);

    private static ulong Convert(ulong bits, in FloatFormat from, in FloatFormat to, int rm, ref uint flags)
    {
        var u = Unpack(bits, from);
        switch (u.Kind)
        {
            case Kind.SignalingNaN:
                flags |= Invalid;
                return to.CanonicalNaN;
            case Kind.QuietNaN:
                return to.CanonicalNaN;
            case Kind.Infinity:
                return to.Infinity(u.Sign);
            case Kind.Zero:
                return to.Zero(u.Sign);
            default:
                return RoundPack(u.Sign, u.Exp, u.Sig, to, rm, ref flags);
        }
    }

    /// <summary>
    /// FCVT to an integer: rounds per <paramref name="rm"/>; NaN and out-of-range values saturate and raise NV
    /// (not NX) — NaN and +∞ to the maximum, −∞ to the minimum (20.7, table 20.4). <paramref name="bits"/> is the
    /// magnitude limit: signed → [−2^bits, 2^bits − 1], unsigned → [0, 2^bits − 1]. Returns two's-complement bits.
    /// </summary>
    private static ulong ToInteger(ulong value, in FloatFormat f, int rm, bool signed, int bits, ref uint flags)
    {
        ulong maxPositive = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        ulong minNegativeMagnitude = signed ? 1UL << bits : 0; // most negative value's magnitude
        var u = Unpack(value, f);
        switch (u.Kind)
        {
            case Kind.Zero:
                return 0;
            case Kind.QuietNaN:
            case Kind.SignalingNaN:
                flags |= Invalid;
                return maxPositive;
            case Kind.Infinity:
                flags |= Invalid;
                return u.Sign ? 0UL - minNegativeMagnitude : maxPositive;
        }

        // Magnitude rounded to an integer; value = sig × 2^(e−62).
        ulong magnitude;
        bool inexact;
        if (u.Exp >= 64)
        {
            flags |= Invalid;
            return u.Sign ? 0UL - minNegativeMagnitude : maxPositive;
        }

        if (u.Exp >= 62)
        {
            magnitude = u.Sig << (u.Exp - 62);
            inexact = false;
        }
        else
        {
            int shift = 62 - u.Exp;
            ulong kept = shift >= 64 ? 0 : u.Sig >> shift;
            ulong rest = shift >= 64 ? u.Sig : u.Sig & ((1UL << shift) - 1);
            inexact = true; // sig ≠ 0 below bit 62 whenever shift > 0 reaches set bits; checked below
            if (shift < 64 && rest == 0)
            {
                inexact = false;
            }

            bool up = false;
            if (inexact)
            {
                // Halfway comparison: beyond 63 bits of shift the value is below one half.
                int cmp = shift > 63 ? -1 : rest.CompareTo(1UL << (shift - 1));
                up = rm switch
                {
                    Rne => cmp > 0 || (cmp == 0 && (kept & 1) != 0),
                    Rtz => false,
                    Rdn => u.Sign,
                    Rup => !u.Sign,
                    _ => cmp >= 0,
                };
            }

            magnitude = kept + (up ? 1UL : 0UL);
        }

        bool inRange = u.Sign ? magnitude <= minNegativeMagnitude : magnitude <= maxPositive;
        if (!inRange)
        {
            flags |= Invalid;
            return u.Sign ? 0UL - minNegativeMagnitude : maxPositive;
        }

        if (inexact)
        {
            flags |= Inexact;
        }

        return u.Sign ? 0UL - magnitude : magnitude;
    }
}
