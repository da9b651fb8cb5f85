using Vessel.RiscV.Fpu;
using static Vessel.RiscV.Tests.Fpu.FloatTestValues;

namespace Vessel.RiscV.Tests.Fpu;

/// <summary>
/// Add, subtract, multiply, divide and square root corner cases (RISC-V unprivileged spec, F and D chapters;
/// IEEE 754-2008 §6–7): NaNs, invalid operations, division by zero, overflow and underflow per rounding mode,
/// signed zeros, ties and subnormals.
/// </summary>
public sealed class ArithmeticTests
{
    private static ulong Op64(string op, ulong a, ulong b, int rm, ref uint flags) => op switch
    {
        "add" => SoftFloat.Add64(a, b, rm, ref flags),
        "sub" => SoftFloat.Sub64(a, b, rm, ref flags),
        "mul" => SoftFloat.Mul64(a, b, rm, ref flags),
        "div" => SoftFloat.Div64(a, b, rm, ref flags),
        "sqrt" => SoftFloat.Sqrt64(a, rm, ref flags),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static uint Op32(string op, uint a, uint b, int rm, ref uint flags) => op switch
    {
        "add" => SoftFloat.Add32(a, b, rm, ref flags),
        "sub" => SoftFloat.Sub32(a, b, rm, ref flags),
        "mul" => SoftFloat.Mul32(a, b, rm, ref flags),
        "div" => SoftFloat.Div32(a, b, rm, ref flags),
        "sqrt" => SoftFloat.Sqrt32(a, rm, ref flags),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    [Theory]
    [InlineData("add")]
    [InlineData("sub")]
    [InlineData("mul")]
    [InlineData("div")]
    [InlineData("sqrt")]
    public void QuietNaNOperandsGiveTheCanonicalNaNAndNoFlag(string op)
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, Op64(op, QuietNaNWithPayload64, D(2), Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN32, Op32(op, QuietNaNWithPayload32, S(2), Rne, ref flags));
        if (op != "sqrt")
        {
            Assert.Equal(SoftFloat.CanonicalNaN64, Op64(op, D(2), QuietNaNWithPayload64, Rup, ref flags));
            Assert.Equal(SoftFloat.CanonicalNaN32, Op32(op, S(2), QuietNaNWithPayload32, Rup, ref flags));
            Assert.Equal(SoftFloat.CanonicalNaN64, Op64(op, PositiveInfinity64, SoftFloat.CanonicalNaN64, Rne, ref flags));
            Assert.Equal(SoftFloat.CanonicalNaN32, Op32(op, PositiveZero32, SoftFloat.CanonicalNaN32, Rne, ref flags));
        }

        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("sub")]
    [InlineData("mul")]
    [InlineData("div")]
    [InlineData("sqrt")]
    public void SignalingNaNOperandsRaiseInvalid(string op)
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, Op64(op, SignalingNaN64, D(2), Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN32, Op32(op, SignalingNaN32 | Sign32, S(2), Rne, ref flags));
        Assert.Equal(NV, flags);
        if (op != "sqrt")
        {
            flags = 0;
            Assert.Equal(SoftFloat.CanonicalNaN64, Op64(op, QuietNaNWithPayload64, SignalingNaN64, Rne, ref flags));
            Assert.Equal(NV, flags);
            flags = 0;
            Assert.Equal(SoftFloat.CanonicalNaN32, Op32(op, PositiveInfinity32, SignalingNaN32, Rne, ref flags));
            Assert.Equal(NV, flags);
        }
    }

    [Theory]
    [InlineData("add", PositiveInfinity64, NegativeInfinity64, PositiveInfinity32, NegativeInfinity32)]
    [InlineData("sub", NegativeInfinity64, NegativeInfinity64, NegativeInfinity32, NegativeInfinity32)]
    [InlineData("mul", PositiveZero64, NegativeInfinity64, PositiveZero32, NegativeInfinity32)]
    [InlineData("mul", PositiveInfinity64, NegativeZero64, PositiveInfinity32, NegativeZero32)]
    [InlineData("div", PositiveZero64, NegativeZero64, PositiveZero32, NegativeZero32)]
    [InlineData("div", NegativeInfinity64, PositiveInfinity64, NegativeInfinity32, PositiveInfinity32)]
    [InlineData("sqrt", 0xBFF0_0000_0000_0000UL, 0UL, 0xBF80_0000U, 0U)] // √−1
    [InlineData("sqrt", NegativeInfinity64, 0UL, NegativeInfinity32, 0U)]
    [InlineData("sqrt", Sign64 | MinSubnormal64, 0UL, Sign32 | MinSubnormal32, 0U)]
    public void InvalidOperationsGiveTheCanonicalNaN(string op, ulong a, ulong b, uint a32, uint b32)
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, Op64(op, a, b, Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN32, Op32(op, a32, b32, Rdn, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void SquareRootOfZeroKeepsItsSignAndOfInfinityIsInfinity()
    {
        uint flags = 0;
        Assert.Equal(NegativeZero64, SoftFloat.Sqrt64(NegativeZero64, Rne, ref flags));
        Assert.Equal(PositiveZero64, SoftFloat.Sqrt64(PositiveZero64, Rdn, ref flags));
        Assert.Equal(PositiveInfinity64, SoftFloat.Sqrt64(PositiveInfinity64, Rne, ref flags));
        Assert.Equal(NegativeZero32, SoftFloat.Sqrt32(NegativeZero32, Rne, ref flags));
        Assert.Equal(PositiveInfinity32, SoftFloat.Sqrt32(PositiveInfinity32, Rne, ref flags));
        Assert.Equal(D(3), SoftFloat.Sqrt64(D(9), Rne, ref flags));
        Assert.Equal(S(0.5f), SoftFloat.Sqrt32(S(0.25f), Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(Rne, 0x3FF6_A09E_667F_3BCDUL)]
    [InlineData(Rtz, 0x3FF6_A09E_667F_3BCCUL)]
    [InlineData(Rdn, 0x3FF6_A09E_667F_3BCCUL)]
    [InlineData(Rup, 0x3FF6_A09E_667F_3BCDUL)]
    [InlineData(Rmm, 0x3FF6_A09E_667F_3BCDUL)]
    public void SquareRootRoundsPerMode(int rm, ulong expected)
    {
        // √2 = 1.6A09E667F3BCC908…₁₆: the discarded part is above one half.
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Sqrt64(D(2), rm, ref flags));
        Assert.Equal(NX, flags);
    }

    [Fact]
    public void DivisionOfAFiniteNonZeroValueByZeroRaisesDivideByZero()
    {
        uint flags = 0;
        Assert.Equal(PositiveInfinity64, SoftFloat.Div64(D(1), PositiveZero64, Rne, ref flags));
        Assert.Equal(NegativeInfinity64, SoftFloat.Div64(D(-3), PositiveZero64, Rtz, ref flags));
        Assert.Equal(NegativeInfinity64, SoftFloat.Div64(MinSubnormal64, NegativeZero64, Rne, ref flags));
        Assert.Equal(NegativeInfinity32, SoftFloat.Div32(S(1), NegativeZero32, Rne, ref flags));
        Assert.Equal(DZ, flags);

        // ∞/0 is exact ∞, and 0/0 is invalid, not a division by zero.
        flags = 0;
        Assert.Equal(PositiveInfinity64, SoftFloat.Div64(PositiveInfinity64, PositiveZero64, Rne, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.Div32(PositiveZero32, PositiveZero32, Rne, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void DivisionByInfinityAndOfZeroGiveSignedZeros()
    {
        uint flags = 0;
        Assert.Equal(NegativeZero64, SoftFloat.Div64(D(5), NegativeInfinity64, Rne, ref flags));
        Assert.Equal(NegativeZero64, SoftFloat.Div64(NegativeZero64, D(7), Rne, ref flags));
        Assert.Equal(PositiveZero32, SoftFloat.Div32(NegativeZero32, S(-7), Rne, ref flags));
        Assert.Equal(NegativeZero32, SoftFloat.Mul32(NegativeZero32, S(7), Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(Rne, false, PositiveInfinity64)]
    [InlineData(Rtz, false, MaxFinite64)]
    [InlineData(Rdn, false, MaxFinite64)]
    [InlineData(Rup, false, PositiveInfinity64)]
    [InlineData(Rmm, false, PositiveInfinity64)]
    [InlineData(Rne, true, NegativeInfinity64)]
    [InlineData(Rtz, true, Sign64 | MaxFinite64)]
    [InlineData(Rdn, true, NegativeInfinity64)]
    [InlineData(Rup, true, Sign64 | MaxFinite64)]
    [InlineData(Rmm, true, NegativeInfinity64)]
    public void OverflowGivesInfinityOrTheLargestFiniteValuePerMode(int rm, bool negative, ulong expected)
    {
        ulong sign = negative ? Sign64 : 0;
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Mul64(MaxFinite64 | sign, D(2), rm, ref flags));
        Assert.Equal(OF | NX, flags);
        flags = 0;
        Assert.Equal(expected, SoftFloat.Add64(MaxFinite64 | sign, MaxFinite64 | sign, rm, ref flags));
        Assert.Equal(OF | NX, flags);
        flags = 0;
        Assert.Equal(expected, SoftFloat.Div64(MaxFinite64 | sign, D(0.5), rm, ref flags));
        Assert.Equal(OF | NX, flags);

        uint expected32 = SoftFloat.Float64To32(expected, Rtz, ref flags); // ±∞ and ±max map to their binary32 peers
        flags = 0;
        Assert.Equal(expected32, SoftFloat.Mul32(MaxFinite32 | (negative ? Sign32 : 0), S(2), rm, ref flags));
        Assert.Equal(OF | NX, flags);
    }

    [Fact]
    public void OverflowIsJudgedOnTheRoundedResult()
    {
        // max + ½ulp(max) is a tie: to nearest it rounds to 2^1024 (overflow); toward zero it stays max, which
        // is merely inexact. max + ¼ulp rounds to max except upward.
        ulong halfUlp = Pow2(970), quarterUlp = Pow2(969);
        uint flags = 0;
        Assert.Equal(PositiveInfinity64, SoftFloat.Add64(MaxFinite64, halfUlp, Rne, ref flags));
        Assert.Equal(OF | NX, flags);
        flags = 0;
        Assert.Equal(MaxFinite64, SoftFloat.Add64(MaxFinite64, halfUlp, Rtz, ref flags));
        Assert.Equal(NX, flags);
        flags = 0;
        Assert.Equal(MaxFinite64, SoftFloat.Add64(MaxFinite64, quarterUlp, Rne, ref flags));
        Assert.Equal(NX, flags);
        flags = 0;
        Assert.Equal(PositiveInfinity64, SoftFloat.Add64(MaxFinite64, quarterUlp, Rup, ref flags));
        Assert.Equal(OF | NX, flags);
    }

    [Theory]
    [InlineData(Rne, PositiveZero64)]
    [InlineData(Rtz, PositiveZero64)]
    [InlineData(Rdn, NegativeZero64)]
    [InlineData(Rup, PositiveZero64)]
    [InlineData(Rmm, PositiveZero64)]
    public void ExactZeroSumsArePositiveExceptWhenRoundingDown(int rm, ulong expected)
    {
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Sub64(D(1.5), D(1.5), rm, ref flags));
        Assert.Equal(expected, SoftFloat.Add64(D(-1e300), D(1e300), rm, ref flags));
        Assert.Equal(expected, SoftFloat.Add64(MinSubnormal64, Sign64 | MinSubnormal64, rm, ref flags));
        Assert.Equal(expected, SoftFloat.Add64(PositiveZero64, NegativeZero64, rm, ref flags));
        Assert.Equal(expected, SoftFloat.Sub64(PositiveZero64, PositiveZero64, rm, ref flags));
        uint expected32 = (uint)(expected >> 32);
        Assert.Equal(expected32, SoftFloat.Sub32(S(3f), S(3f), rm, ref flags));
        Assert.Equal(expected32, SoftFloat.Add32(NegativeZero32, PositiveZero32, rm, ref flags));

        // Zeros of the same sign keep it in every mode; x + ±0 is x.
        Assert.Equal(NegativeZero64, SoftFloat.Add64(NegativeZero64, NegativeZero64, rm, ref flags));
        Assert.Equal(NegativeZero64, SoftFloat.Sub64(NegativeZero64, PositiveZero64, rm, ref flags));
        Assert.Equal(PositiveZero64, SoftFloat.Add64(PositiveZero64, PositiveZero64, rm, ref flags));
        Assert.Equal(NegativeZero32, SoftFloat.Add32(NegativeZero32, NegativeZero32, rm, ref flags));
        Assert.Equal(D(-2), SoftFloat.Add64(D(-2), PositiveZero64, rm, ref flags));
        Assert.Equal(MinSubnormal32, SoftFloat.Sub32(MinSubnormal32, PositiveZero32, rm, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(Rne, 0x3FF0_0000_0000_0000UL, 0x3FF0_0000_0000_0002UL, 0xBFF0_0000_0000_0000UL)]
    [InlineData(Rtz, 0x3FF0_0000_0000_0000UL, 0x3FF0_0000_0000_0001UL, 0xBFF0_0000_0000_0000UL)]
    [InlineData(Rdn, 0x3FF0_0000_0000_0000UL, 0x3FF0_0000_0000_0001UL, 0xBFF0_0000_0000_0001UL)]
    [InlineData(Rup, 0x3FF0_0000_0000_0001UL, 0x3FF0_0000_0000_0002UL, 0xBFF0_0000_0000_0000UL)]
    [InlineData(Rmm, 0x3FF0_0000_0000_0001UL, 0x3FF0_0000_0000_0002UL, 0xBFF0_0000_0000_0001UL)]
    public void TiesFollowTheRoundingMode(int rm, ulong onePlusHalfUlp, ulong oddPlusHalfUlp, ulong minusOneMinusHalfUlp)
    {
        // 1 + 2^-53 is halfway between 1 (even) and 1 + 2^-52; (1 + 2^-52) + 2^-53 is halfway between an odd
        // significand and the even one above it; −1 − 2^-53 mirrors the first.
        uint flags = 0;
        Assert.Equal(onePlusHalfUlp, SoftFloat.Add64(D(1), Pow2(-53), rm, ref flags));
        Assert.Equal(oddPlusHalfUlp, SoftFloat.Add64(0x3FF0_0000_0000_0001, Pow2(-53), rm, ref flags));
        Assert.Equal(minusOneMinusHalfUlp, SoftFloat.Sub64(D(-1), Pow2(-53), rm, ref flags));
        Assert.Equal(NX, flags);

        // The same tie in binary32, and one made by a product: (1 + 2^-12)² = 1 + 2^-11 + 2^-24 lies halfway
        // between 1 + 2^-11 (even) and the next number up.
        bool roundsUp = onePlusHalfUlp != D(1);
        flags = 0;
        Assert.Equal(S(roundsUp ? 1f + Exp2F(-23) : 1f), SoftFloat.Add32(S(1), Pow2F(-24), rm, ref flags));
        uint square = S(1f + Exp2F(-11) + (roundsUp ? Exp2F(-23) : 0f));
        Assert.Equal(square, SoftFloat.Mul32(S(1f + Exp2F(-12)), S(1f + Exp2F(-12)), rm, ref flags));
        Assert.Equal(NX, flags);
    }

    [Fact]
    public void JustAboveAndBelowHalfwayRoundToNearest()
    {
        uint flags = 0;
        Assert.Equal(0x3FF0_0000_0000_0001UL, SoftFloat.Add64(D(1), D(Exp2(-53) + Exp2(-105)), Rne, ref flags));
        Assert.Equal(D(1), SoftFloat.Add64(D(1), D(Exp2(-53) - Exp2(-106)), Rmm, ref flags));
        Assert.Equal(D(1), SoftFloat.Sub64(0x3FF0_0000_0000_0001, D(Exp2(-53) + Exp2(-105)), Rne, ref flags));
        Assert.Equal(NX, flags);
    }

    [Fact]
    public void SubnormalOperandsAndExactSubnormalResultsRaiseNothing()
    {
        uint flags = 0;
        Assert.Equal(2UL, SoftFloat.Add64(MinSubnormal64, MinSubnormal64, Rne, ref flags));
        Assert.Equal(MinNormal64, SoftFloat.Add64(MaxSubnormal64, MinSubnormal64, Rne, ref flags));
        Assert.Equal(MaxSubnormal64, SoftFloat.Sub64(MinNormal64, MinSubnormal64, Rne, ref flags));
        Assert.Equal(0x001F_FFFF_FFFF_FFFEUL, SoftFloat.Mul64(MaxSubnormal64, D(2), Rne, ref flags));
        Assert.Equal(MinSubnormal64, SoftFloat.Div64(MinNormal64, Pow2(52), Rne, ref flags));
        Assert.Equal(Pow2(-537), SoftFloat.Sqrt64(MinSubnormal64, Rne, ref flags));
        Assert.Equal(Pow2(74), SoftFloat.Div64(Pow2(-1000), MinSubnormal64, Rne, ref flags));
        Assert.Equal(Pow2(-1023), SoftFloat.Mul64(MinSubnormal64, Pow2(51), Rne, ref flags));
        Assert.Equal(MinSubnormal32, SoftFloat.Div32(MinNormal32, Pow2F(23), Rne, ref flags));
        Assert.Equal(Pow2F(-70), SoftFloat.Mul32(MinSubnormal32, Pow2F(79), Rne, ref flags));
        Assert.Equal(MaxSubnormal32 + 1, SoftFloat.Add32(MaxSubnormal32, MinSubnormal32, Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(Rne, 0UL, 2UL, Sign64)]
    [InlineData(Rtz, 0UL, 1UL, Sign64)]
    [InlineData(Rdn, 0UL, 1UL, Sign64 | 1)]
    [InlineData(Rup, 1UL, 2UL, Sign64)]
    [InlineData(Rmm, 1UL, 2UL, Sign64 | 1)]
    public void TinyInexactResultsRoundPerModeAndRaiseUnderflow(int rm, ulong halfOfMin, ulong threeHalvesOfMin, ulong minusHalfOfMin)
    {
        // 2^-1075 is a tie between 0 and the smallest subnormal; 1.5 × 2^-1074 one between 1 and 2 units.
        uint flags = 0;
        Assert.Equal(halfOfMin, SoftFloat.Mul64(MinSubnormal64, D(0.5), rm, ref flags));
        Assert.Equal(UF | NX, flags);
        flags = 0;
        Assert.Equal(threeHalvesOfMin, SoftFloat.Mul64(3, D(0.5), rm, ref flags));
        Assert.Equal(UF | NX, flags);
        flags = 0;
        Assert.Equal(minusHalfOfMin, SoftFloat.Div64(Sign64 | MinSubnormal64, D(2), rm, ref flags));
        Assert.Equal(UF | NX, flags);
        flags = 0;
        Assert.Equal((uint)halfOfMin, SoftFloat.Mul32(MinSubnormal32, S(0.5f), rm, ref flags));
        Assert.Equal(UF | NX, flags);
        flags = 0;
        Assert.Equal((uint)threeHalvesOfMin, SoftFloat.Div32(3, S(2), rm, ref flags));
        Assert.Equal(UF | NX, flags);
    }

    [Theory]
    [InlineData(Rne, MinNormal64, UF | NX)]
    [InlineData(Rtz, MaxSubnormal64, UF | NX)]
    [InlineData(Rdn, MaxSubnormal64, UF | NX)]
    [InlineData(Rup, MinNormal64, UF | NX)]
    [InlineData(Rmm, MinNormal64, UF | NX)]
    public void AResultRoundingUpToTheSmallestNormalCanStillBeTiny(int rm, ulong expected, uint expectedFlags)
    {
        // (1 − 2^-53) × 2^-1022 is exact at full precision, so it is tiny after rounding in every mode, even
        // where the subnormal rounding carries it up to 2^-1022.
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Mul64(D(Math.BitDecrement(1.0)), MinNormal64, rm, ref flags));
        Assert.Equal(expectedFlags, flags);
        flags = 0;
        Assert.Equal((uint)(expected == MinNormal64 ? MinNormal32 : MaxSubnormal32), SoftFloat.Mul32(S(MathF.BitDecrement(1f)), MinNormal32, rm, ref flags));
        Assert.Equal(expectedFlags, flags);
    }

    [Fact]
    public void QuotientJustBelowTheSmallestNormalUnderflows()
    {
        // 2^-1022 / (1 + 2^-52) = 2^-1022 × (1 − 2^-52 + 2^-104 − …): tiny, and rounds to the largest subnormal.
        uint flags = 0;
        Assert.Equal(MaxSubnormal64, SoftFloat.Div64(MinNormal64, D(Math.BitIncrement(1.0)), Rne, ref flags));
        Assert.Equal(UF | NX, flags);
    }

    [Fact]
    public void HostAssistedAndIntegerCoreAgreeOnHandPickedBoundaries()
    {
        // The same operations through the integer core directly (the public API may take host fast paths).
        uint f1 = 0, f2 = 0;
        Assert.Equal(SoftFloat.Add64(D(1), Pow2(-53), Rmm, ref f1), FloatArithmetic<Binary64>.Add(D(1), Pow2(-53), Rmm, ref f2));
        Assert.Equal(SoftFloat.Mul64(0x3FF0_0000_0000_0001, 0x3FF0_0000_0000_0001, Rup, ref f1), FloatArithmetic<Binary64>.Mul(0x3FF0_0000_0000_0001, 0x3FF0_0000_0000_0001, Rup, ref f2));
        Assert.Equal(SoftFloat.Div64(D(1), D(3), Rdn, ref f1), FloatArithmetic<Binary64>.Div(D(1), D(3), Rdn, ref f2));
        Assert.Equal(SoftFloat.Sqrt64(D(2), Rtz, ref f1), FloatArithmetic<Binary64>.Sqrt(D(2), Rtz, ref f2));
        Assert.Equal((ulong)SoftFloat.Div32(S(1), S(3), Rup, ref f1), FloatArithmetic<Binary32>.Div(S(1), S(3), Rup, ref f2));
        Assert.Equal(f1, f2);
    }
}
