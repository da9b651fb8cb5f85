using Vessel.RiscV.Fpu;
using static Vessel.RiscV.Tests.Fpu.FloatTestValues;

namespace Vessel.RiscV.Tests.Fpu;

/// <summary>
/// FMIN/FMAX (IEEE 754-2019 minimumNumber/maximumNumber since F 2.2), FEQ/FLT/FLE and FCLASS
/// (RISC-V F chapter, "Compare" and "Classify" instructions).
/// </summary>
public sealed class ComparisonTests
{
    [Fact]
    public void NegativeZeroIsTheMinimumOfTheZeros()
    {
        uint flags = 0;
        Assert.Equal(NegativeZero64, SoftFloat.Min64(PositiveZero64, NegativeZero64, ref flags));
        Assert.Equal(NegativeZero64, SoftFloat.Min64(NegativeZero64, PositiveZero64, ref flags));
        Assert.Equal(PositiveZero64, SoftFloat.Max64(NegativeZero64, PositiveZero64, ref flags));
        Assert.Equal(PositiveZero64, SoftFloat.Max64(PositiveZero64, NegativeZero64, ref flags));
        Assert.Equal(NegativeZero32, SoftFloat.Min32(PositiveZero32, NegativeZero32, ref flags));
        Assert.Equal(PositiveZero32, SoftFloat.Max32(NegativeZero32, PositiveZero32, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void MinimumAndMaximumOfNumbers()
    {
        uint flags = 0;
        Assert.Equal(D(-3), SoftFloat.Min64(D(2), D(-3), ref flags));
        Assert.Equal(D(2), SoftFloat.Max64(D(2), D(-3), ref flags));
        Assert.Equal(NegativeInfinity64, SoftFloat.Min64(NegativeInfinity64, MaxFinite64 ^ Sign64, ref flags));
        Assert.Equal(PositiveInfinity64, SoftFloat.Max64(MaxFinite64, PositiveInfinity64, ref flags));
        Assert.Equal(MinSubnormal64, SoftFloat.Max64(MinSubnormal64, NegativeZero64, ref flags));
        Assert.Equal(MinSubnormal64 | Sign64, SoftFloat.Min64(MinSubnormal64 | Sign64, PositiveZero64, ref flags));
        Assert.Equal(S(-1.5f), SoftFloat.Min32(S(-1.5f), S(-1.25f), ref flags));
        Assert.Equal(MaxSubnormal32, SoftFloat.Max32(MaxSubnormal32, 1, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void OneQuietNaNOperandYieldsTheOtherOperandQuietly()
    {
        uint flags = 0;
        Assert.Equal(D(3), SoftFloat.Min64(SoftFloat.CanonicalNaN64, D(3), ref flags));
        Assert.Equal(D(3), SoftFloat.Max64(D(3), QuietNaNWithPayload64, ref flags));
        Assert.Equal(NegativeZero64, SoftFloat.Max64(QuietNaNWithPayload64, NegativeZero64, ref flags));
        Assert.Equal(NegativeInfinity32, SoftFloat.Max32(QuietNaNWithPayload32, NegativeInfinity32, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void SignalingNaNOperandsRaiseInvalidButStillLose()
    {
        uint flags = 0;
        Assert.Equal(D(3), SoftFloat.Max64(SignalingNaN64, D(3), ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(S(-7), SoftFloat.Min32(S(-7), SignalingNaN32, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void TwoNaNOperandsGiveTheCanonicalNaN()
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Min64(QuietNaNWithPayload64, QuietNaNWithPayload64, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.Max32(QuietNaNWithPayload32, SoftFloat.CanonicalNaN32, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Max64(SignalingNaN64, QuietNaNWithPayload64, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.Min32(SignalingNaN32, SignalingNaN32, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void EqualityIsQuiet()
    {
        uint flags = 0;
        Assert.False(SoftFloat.Eq64(SoftFloat.CanonicalNaN64, SoftFloat.CanonicalNaN64, ref flags));
        Assert.False(SoftFloat.Eq64(D(1), QuietNaNWithPayload64, ref flags));
        Assert.False(SoftFloat.Eq32(QuietNaNWithPayload32, S(1), ref flags));
        Assert.Equal(0u, flags);
        Assert.True(SoftFloat.Eq64(PositiveZero64, NegativeZero64, ref flags));
        Assert.True(SoftFloat.Eq32(MinSubnormal32, MinSubnormal32, ref flags));
        Assert.False(SoftFloat.Eq64(MinSubnormal64, MinSubnormal64 | Sign64, ref flags));
        Assert.Equal(0u, flags);
        Assert.False(SoftFloat.Eq64(SignalingNaN64, D(1), ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.False(SoftFloat.Eq32(S(1), SignalingNaN32, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void OrderedComparisonsSignalOnAnyNaN()
    {
        uint flags = 0;
        Assert.False(SoftFloat.Lt64(SoftFloat.CanonicalNaN64, D(1), ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.False(SoftFloat.Le64(D(1), QuietNaNWithPayload64, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.False(SoftFloat.Lt32(SignalingNaN32, S(1), ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.False(SoftFloat.Le32(SoftFloat.CanonicalNaN32, SoftFloat.CanonicalNaN32, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void OrderedComparisonsOfNumbers()
    {
        uint flags = 0;
        Assert.False(SoftFloat.Lt64(NegativeZero64, PositiveZero64, ref flags));
        Assert.True(SoftFloat.Le64(PositiveZero64, NegativeZero64, ref flags));
        Assert.True(SoftFloat.Lt64(D(-2), D(-1), ref flags));
        Assert.False(SoftFloat.Lt64(D(-1), D(-2), ref flags));
        Assert.True(SoftFloat.Lt64(NegativeInfinity64, MaxFinite64 | Sign64, ref flags));
        Assert.True(SoftFloat.Lt64(MaxSubnormal64, MinNormal64, ref flags));
        Assert.True(SoftFloat.Lt64(MinSubnormal64 | Sign64, NegativeZero64, ref flags));
        Assert.False(SoftFloat.Le64(D(3), D(2), ref flags));
        Assert.True(SoftFloat.Le64(D(2), D(2), ref flags));
        Assert.True(SoftFloat.Lt32(S(-0.5f), MinSubnormal32, ref flags));
        Assert.False(SoftFloat.Lt32(PositiveInfinity32, PositiveInfinity32, ref flags));
        Assert.True(SoftFloat.Le32(PositiveInfinity32, PositiveInfinity32, ref flags));
        Assert.True(SoftFloat.Le32(NegativeZero32, PositiveZero32, ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(NegativeInfinity64, 0)]
    [InlineData(0xBFF0_0000_0000_0000UL, 1)] // −1
    [InlineData(Sign64 | MaxFinite64, 1)]
    [InlineData(Sign64 | MinNormal64, 1)]
    [InlineData(Sign64 | MaxSubnormal64, 2)]
    [InlineData(Sign64 | MinSubnormal64, 2)]
    [InlineData(NegativeZero64, 3)]
    [InlineData(PositiveZero64, 4)]
    [InlineData(MinSubnormal64, 5)]
    [InlineData(MaxSubnormal64, 5)]
    [InlineData(MinNormal64, 6)]
    [InlineData(MaxFinite64, 6)]
    [InlineData(PositiveInfinity64, 7)]
    [InlineData(SignalingNaN64, 8)]
    [InlineData(0xFFF7_FFFF_FFFF_FFFFUL, 8)]
    [InlineData(0x7FF8_0000_0000_0000UL, 9)]
    [InlineData(QuietNaNWithPayload64, 9)]
    public void ClassifyBinary64(ulong value, int bit)
    {
        Assert.Equal(1UL << bit, SoftFloat.Class64(value));
    }

    [Theory]
    [InlineData(NegativeInfinity32, 0)]
    [InlineData(0xBF80_0000U, 1)]
    [InlineData(Sign32 | MinNormal32, 1)]
    [InlineData(Sign32 | MaxSubnormal32, 2)]
    [InlineData(Sign32 | MinSubnormal32, 2)]
    [InlineData(NegativeZero32, 3)]
    [InlineData(PositiveZero32, 4)]
    [InlineData(MinSubnormal32, 5)]
    [InlineData(MaxSubnormal32, 5)]
    [InlineData(MinNormal32, 6)]
    [InlineData(MaxFinite32, 6)]
    [InlineData(PositiveInfinity32, 7)]
    [InlineData(SignalingNaN32, 8)]
    [InlineData(0xFFBF_FFFFU, 8)]
    [InlineData(0x7FC0_0000U, 9)]
    [InlineData(QuietNaNWithPayload32, 9)]
    public void ClassifyBinary32(uint value, int bit)
    {
        Assert.Equal(1UL << bit, SoftFloat.Class32(value));
    }
}
