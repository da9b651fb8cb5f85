using Vessel.RiscV.Fpu;
using static Vessel.RiscV.Tests.Fpu.FloatTestValues;

namespace Vessel.RiscV.Tests.Fpu;

/// <summary>
/// FMADD and, through the sign flips the interpreter applies, FMSUB/FNMSUB/FNMADD (RISC-V F chapter,
/// "Single-Precision Floating-Point Computational Instructions"; IEEE 754-2008 §5.4.1 fusedMultiplyAdd).
/// </summary>
public sealed class FusedMultiplyAddTests
{
    [Fact]
    public void TheProductIsNotRoundedBeforeTheAddition()
    {
        // (1 + 2^-30)(1 − 2^-30) = 1 − 2^-60 exactly. Rounded first it would be 1, and the sum 0.
        double a = 1 + Exp2(-30), b = 1 - Exp2(-30);
        uint flags = 0;
        Assert.Equal(D(-Exp2(-60)), SoftFloat.MulAdd64(D(a), D(b), D(-1), Rne, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(PositiveZero64, SoftFloat.Add64(SoftFloat.Mul64(D(a), D(b), Rne, ref flags), D(-1), Rne, ref flags));
        Assert.Equal(NX, flags);

        // The same in binary32: (1 + 2^-12)(1 − 2^-12) − 1 = −2^-24 exactly.
        flags = 0;
        Assert.Equal(S(-Exp2F(-24)), SoftFloat.MulAdd32(S(1 + Exp2F(-12)), S(1 - Exp2F(-12)), S(-1), Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void ResidualOfARoundedProductIsExact()
    {
        // a² = 1 + 2^-29 + 2^-60 rounds to 1 + 2^-29; fma(a, a, −that) recovers 2^-60 exactly.
        double a = 1 + Exp2(-30);
        uint flags = 0;
        ulong rounded = SoftFloat.Mul64(D(a), D(a), Rne, ref flags);
        Assert.Equal(D(1 + Exp2(-29)), rounded);
        flags = 0;
        Assert.Equal(D(Exp2(-60)), SoftFloat.MulAdd64(D(a), D(a), rounded ^ Sign64, Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void InfinityTimesZeroIsInvalidEvenWithAQuietNaNAddend()
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(PositiveInfinity64, PositiveZero64, SoftFloat.CanonicalNaN64, Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(NegativeZero64, NegativeInfinity64, QuietNaNWithPayload64, Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.MulAdd32(PositiveZero32, PositiveInfinity32, QuietNaNWithPayload32, Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.MulAdd32(PositiveInfinity32, NegativeZero32, S(1), Rne, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void NaNOperandsGiveTheCanonicalNaNAndSignalOnlyWhenSignaling()
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(QuietNaNWithPayload64, D(1), D(2), Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(D(1), D(2), QuietNaNWithPayload64, Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(QuietNaNWithPayload64, PositiveZero64, PositiveInfinity64, Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.MulAdd32(S(1), QuietNaNWithPayload32, S(2), Rne, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(D(1), D(2), SignalingNaN64, Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.MulAdd32(SignalingNaN32, S(1), QuietNaNWithPayload32, Rne, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void InfiniteProductsAndAddends()
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(PositiveInfinity64, D(2), NegativeInfinity64, Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(NegativeInfinity64, SoftFloat.MulAdd64(PositiveInfinity64, D(-2), NegativeInfinity64, Rne, ref flags));
        Assert.Equal(NegativeInfinity64, SoftFloat.MulAdd64(MaxFinite64, D(2), NegativeInfinity64, Rne, ref flags)); // no overflow: exact −∞
        Assert.Equal(PositiveInfinity32, SoftFloat.MulAdd32(PositiveZero32, S(5), PositiveInfinity32, Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(Rne)]
    [InlineData(Rtz)]
    [InlineData(Rdn)]
    [InlineData(Rup)]
    [InlineData(Rmm)]
    public void ZeroResultsFollowTheSumRules(int rm)
    {
        ulong exactZero = rm == Rdn ? NegativeZero64 : PositiveZero64;
        uint flags = 0;
        Assert.Equal(exactZero, SoftFloat.MulAdd64(D(3), D(5), D(-15), rm, ref flags)); // exact cancellation
        Assert.Equal(exactZero, SoftFloat.MulAdd64(NegativeZero64, D(1), PositiveZero64, rm, ref flags)); // −0 + +0
        Assert.Equal(NegativeZero64, SoftFloat.MulAdd64(NegativeZero64, D(1), NegativeZero64, rm, ref flags));
        Assert.Equal(PositiveZero64, SoftFloat.MulAdd64(NegativeZero64, D(-1), PositiveZero64, rm, ref flags));
        Assert.Equal((uint)(exactZero >> 32), SoftFloat.MulAdd32(S(-3), S(5), S(15), rm, ref flags));
        Assert.Equal(D(7), SoftFloat.MulAdd64(PositiveZero64, D(-1), D(7), rm, ref flags)); // 0 product: c exactly
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void SignFlipsGiveTheOtherThreeInstructions()
    {
        // fmsub = a·b − c, fnmsub = −a·b + c, fnmadd = −a·b − c; with a = 3, b = 5, c = 2.
        uint flags = 0;
        Assert.Equal(D(13), SoftFloat.MulAdd64(D(3), D(5), D(2) ^ Sign64, Rne, ref flags));
        Assert.Equal(D(-13), SoftFloat.MulAdd64(D(3) ^ Sign64, D(5), D(2), Rne, ref flags));
        Assert.Equal(D(-17), SoftFloat.MulAdd64(D(3) ^ Sign64, D(5), D(2) ^ Sign64, Rne, ref flags));
        Assert.Equal(S(-17), SoftFloat.MulAdd32(S(3) ^ Sign32, S(5), S(2) ^ Sign32, Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(Rne, MinNormal64, NX)]
    [InlineData(Rtz, MaxSubnormal64, UF | NX)]
    [InlineData(Rdn, MaxSubnormal64, UF | NX)]
    [InlineData(Rup, MinNormal64, NX)]
    [InlineData(Rmm, MinNormal64, NX)]
    public void TininessIsDetectedAfterRounding(int rm, ulong expected, uint expectedFlags)
    {
        // 2^-1022 × (1 − 2^-54) is below the smallest normal, but rounded to 53 bits with an unbounded exponent
        // it becomes 2^-1022 in RNE (a tie, to even), RUP and RMM: not tiny, so no UF, only NX.
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.MulAdd64(D(-Exp2(-54)), MinNormal64, MinNormal64, rm, ref flags));
        Assert.Equal(expectedFlags, flags);

        // Binary32: 2^-126 × (1 − 2^-25).
        flags = 0;
        uint expected32 = expected == MinNormal64 ? MinNormal32 : MaxSubnormal32;
        Assert.Equal(expected32, SoftFloat.MulAdd32(S(-Exp2F(-25)), MinNormal32, MinNormal32, rm, ref flags));
        Assert.Equal(expectedFlags, flags);
    }

    [Fact]
    public void DeepCancellationIntoTheSubnormalRange()
    {
        // A regression found against QEMU: the sum cancels to far below the product's leading bit.
        uint flags = 0;
        Assert.Equal(0x8000_0000_0000_0063UL, SoftFloat.MulAdd64(0x0010_0000_0000_0003, 0xC130_0021_0002_0000, 0x0150_0021_0002_0003, Rne, ref flags));
        Assert.Equal(UF | NX, flags);
        flags = 0;
        Assert.Equal(0x3C70_0000_0000_0000UL, SoftFloat.MulAdd64(0x41BF_FFFF_FFFF_FFFE ^ Sign64, 0xC12F_FFFF_FFFF_FFFF, 0x42FF_FFFF_FFFF_FFFD ^ Sign64, Rup, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(Rne, PositiveInfinity64)]
    [InlineData(Rtz, MaxFinite64)]
    [InlineData(Rdn, MaxFinite64)]
    [InlineData(Rup, PositiveInfinity64)]
    [InlineData(Rmm, PositiveInfinity64)]
    public void OverflowFollowsTheRoundingMode(int rm, ulong expected)
    {
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.MulAdd64(MaxFinite64, D(1.5), MaxFinite64, rm, ref flags));
        Assert.Equal(OF | NX, flags);
        flags = 0;
        Assert.Equal(expected ^ Sign64, SoftFloat.MulAdd64(MaxFinite64 ^ Sign64, D(1.5), MaxFinite64 ^ Sign64, ReverseDirection(rm), ref flags));
        Assert.Equal(OF | NX, flags);
    }

    [Fact]
    public void TinyAddendOnlyNudgesTheDirectedRoundings()
    {
        // 1 × 1 + 2^-200: inexact; only rounding up moves off 1.
        uint flags = 0;
        Assert.Equal(D(1), SoftFloat.MulAdd64(D(1), D(1), Pow2(-200), Rne, ref flags));
        Assert.Equal(0x3FF0_0000_0000_0001UL, SoftFloat.MulAdd64(D(1), D(1), Pow2(-200), Rup, ref flags));
        Assert.Equal(0x3FEF_FFFF_FFFF_FFFFUL, SoftFloat.MulAdd64(D(1), D(1), Pow2(-200) ^ Sign64, Rtz, ref flags));
        Assert.Equal(0x3F7F_FFFFU, SoftFloat.MulAdd32(S(1), S(1), MinSubnormal32 ^ Sign32, Rdn, ref flags));
        Assert.Equal(NX, flags);
    }

    private static int ReverseDirection(int rm) => rm == Rdn ? Rup : rm == Rup ? Rdn : rm;
}
