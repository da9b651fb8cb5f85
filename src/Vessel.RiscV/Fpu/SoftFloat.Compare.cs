using static Vessel.RiscV.Fpu.SoftFloatCore;

namespace Vessel.RiscV.Fpu;

/// <summary>Comparisons, min/max and classification (unprivileged spec 20.8–20.9).</summary>
public static partial class SoftFloat
{
    /// <summary>A total order key for non-NaN values in which −0 and +0 are equal.</summary>
    private static long OrderKey(ulong bits, in FloatFormat f)
    {
        long magnitude = (long)(bits & (f.SignBit - 1));
        return (bits & f.SignBit) != 0 ? -magnitude : magnitude;
    }

    private static bool Equal(ulong a, ulong b, in FloatFormat f, ref uint flags)
    {
        var ua = Unpack(a, f);
        var ub = Unpack(b, f);
        if (ua.IsNaN || ub.IsNaN)
        {
            // FEQ is a quiet comparison: only signalling NaNs raise NV.
            if (AnySignaling(ua, ub))
            {
                flags |= Invalid;
            }

            return false;
        }

        return OrderKey(a, f) == OrderKey(b, f);
    }

    private static bool Less(ulong a, ulong b, bool orEqual, in FloatFormat f, ref uint flags)
    {
        var ua = Unpack(a, f);
        var ub = Unpack(b, f);
        if (ua.IsNaN || ub.IsNaN)
        {
            // FLT and FLE are signalling comparisons: any NaN raises NV.
            flags |= Invalid;
            return false;
        }

        long ka = OrderKey(a, f), kb = OrderKey(b, f);
        return orEqual ? ka <= kb : ka < kb;
    }

    /// <summary>IEEE 754-2019 minimumNumber/maximumNumber, as FMIN/FMAX since RISC-V F 2.2: −0 &lt; +0, NaNs lose.</summary>
    private static ulong MinMax(ulong a, ulong b, bool max, in FloatFormat f, ref uint flags)
    {
        var ua = Unpack(a, f);
        var ub = Unpack(b, f);
        if (AnySignaling(ua, ub))
        {
            flags |= Invalid;
        }

        if (ua.IsNaN && ub.IsNaN)
        {
            return f.CanonicalNaN;
        }

        if (ua.IsNaN)
        {
            return b;
        }

        if (ub.IsNaN)
        {
            return a;
        }

        if (ua.Kind == Kind.Zero && ub.Kind == Kind.Zero && ua.Sign != ub.Sign)
        {
            return f.Zero(!max);
        }

        bool aLess = OrderKey(a, f) < OrderKey(b, f);
        return max ? (aLess ? b : a) : (aLess ? a : b);
    }

    /// <summary>FCLASS: one bit of ten (20.9).</summary>
    private static ulong Classify(ulong bits, in FloatFormat f)
    {
        var u = Unpack(bits, f);
        bool subnormal = u.Kind == Kind.Finite && ((bits >> f.FractionBits) & (ulong)f.MaxBiasedExponent) == 0;
        int bit = u.Kind switch
        {
            Kind.SignalingNaN => 8,
            Kind.QuietNaN => 9,
            Kind.Infinity => u.Sign ? 0 : 7,
            Kind.Zero => u.Sign ? 3 : 4,
            _ when subnormal => u.Sign ? 2 : 5,
            _ => u.Sign ? 1 : 6,
        };
        return 1UL << bit;
    }
}
