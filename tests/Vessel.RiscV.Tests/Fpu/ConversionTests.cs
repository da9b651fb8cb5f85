using Vessel.RiscV.Fpu;
using static Vessel.RiscV.Tests.Fpu.FloatTestValues;

namespace Vessel.RiscV.Tests.Fpu;

/// <summary>
/// FCVT between floating point and integers, and between the two formats (RISC-V F and D chapters, conversion
/// instructions and the table of float-to-integer conversion domains).
/// </summary>
public sealed class ConversionTests
{
    [Theory]
    [InlineData(Rne, 2L, -2L, 0L, 0L)]
    [InlineData(Rtz, 2L, -2L, 0L, 0L)]
    [InlineData(Rdn, 2L, -3L, 0L, -1L)]
    [InlineData(Rup, 3L, -2L, 1L, 0L)]
    [InlineData(Rmm, 3L, -3L, 1L, -1L)]
    public void ConversionToIntegerRoundsPerMode(int rm, long twoAndAHalf, long minusTwoAndAHalf, long half, long minusHalf)
    {
        uint flags = 0;
        Assert.Equal(twoAndAHalf, SoftFloat.ToInt64From64(D(2.5), rm, ref flags));
        Assert.Equal(minusTwoAndAHalf, SoftFloat.ToInt32From64(D(-2.5), rm, ref flags));
        Assert.Equal(half, SoftFloat.ToInt32From32(S(0.5f), rm, ref flags));
        Assert.Equal(minusHalf, SoftFloat.ToInt64From32(S(-0.5f), rm, ref flags));
        Assert.Equal(twoAndAHalf, (long)SoftFloat.ToUInt64From64(D(2.5), rm, ref flags));
        Assert.Equal(half, SoftFloat.ToUInt32From32(S(0.5f), rm, ref flags));
        Assert.Equal(rm == Rup ? 1L : 0L, SoftFloat.ToInt64From64(MinSubnormal64, rm, ref flags)); // far below ½
        Assert.Equal(NX, flags);
    }

    [Fact]
    public void ExactConversionsToIntegerRaiseNothing()
    {
        uint flags = 0;
        Assert.Equal(0L, SoftFloat.ToInt32From64(NegativeZero64, Rne, ref flags));
        Assert.Equal(0UL, SoftFloat.ToUInt64From32(NegativeZero32, Rdn, ref flags));
        Assert.Equal(int.MaxValue, SoftFloat.ToInt32From64(D(2147483647.0), Rne, ref flags));
        Assert.Equal(int.MinValue, SoftFloat.ToInt32From64(D(-2147483648.0), Rne, ref flags));
        Assert.Equal(long.MinValue, SoftFloat.ToInt64From64(D(-9223372036854775808.0), Rne, ref flags));
        Assert.Equal(9223372036854774784L, SoftFloat.ToInt64From64(D(9223372036854774784.0), Rne, ref flags));
        Assert.Equal(18446744073709549568UL, SoftFloat.ToUInt64From64(D(18446744073709549568.0), Rne, ref flags));
        Assert.Equal(long.MinValue, SoftFloat.ToInt64From32(S(-9223372036854775808f), Rne, ref flags));
        Assert.Equal(-123456789L, SoftFloat.ToInt64From64(D(-123456789.0), Rtz, ref flags));
        Assert.Equal(0L, SoftFloat.ToUInt32From64(NegativeZero64, Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void UnsignedWordResultsAreSignExtended()
    {
        uint flags = 0;
        Assert.Equal(-1L, SoftFloat.ToUInt32From64(D(4294967295.0), Rne, ref flags)); // 0xFFFF_FFFF_FFFF_FFFF
        Assert.Equal(int.MinValue, SoftFloat.ToUInt32From64(D(2147483648.0), Rne, ref flags));
        Assert.Equal(-256L, SoftFloat.ToUInt32From32(S(4294967040f), Rne, ref flags)); // 0xFFFF_FF00
        Assert.Equal(2147483520L, SoftFloat.ToUInt32From32(S(2147483520f), Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void NaNConvertsToTheLargestPositiveIntegerWithInvalid()
    {
        foreach (ulong nan in new[] { SoftFloat.CanonicalNaN64, QuietNaNWithPayload64, SignalingNaN64, SignalingNaN64 | Sign64 })
        {
            uint flags = 0;
            Assert.Equal(int.MaxValue, SoftFloat.ToInt32From64(nan, Rne, ref flags));
            Assert.Equal(-1L, SoftFloat.ToUInt32From64(nan, Rne, ref flags));
            Assert.Equal(long.MaxValue, SoftFloat.ToInt64From64(nan, Rne, ref flags));
            Assert.Equal(ulong.MaxValue, SoftFloat.ToUInt64From64(nan, Rne, ref flags));
            Assert.Equal(NV, flags);
        }

        foreach (uint nan in new[] { SoftFloat.CanonicalNaN32, QuietNaNWithPayload32, SignalingNaN32 })
        {
            uint flags = 0;
            Assert.Equal(int.MaxValue, SoftFloat.ToInt32From32(nan, Rdn, ref flags));
            Assert.Equal(-1L, SoftFloat.ToUInt32From32(nan, Rdn, ref flags));
            Assert.Equal(long.MaxValue, SoftFloat.ToInt64From32(nan, Rdn, ref flags));
            Assert.Equal(ulong.MaxValue, SoftFloat.ToUInt64From32(nan, Rdn, ref flags));
            Assert.Equal(NV, flags);
        }
    }

    [Fact]
    public void OutOfRangeValuesSaturateWithInvalidAndNotInexact()
    {
        AssertInvalid(int.MaxValue, (ref uint f) => SoftFloat.ToInt32From64(PositiveInfinity64, Rne, ref f));
        AssertInvalid(int.MinValue, (ref uint f) => SoftFloat.ToInt32From64(NegativeInfinity64, Rne, ref f));
        AssertInvalid(int.MaxValue, (ref uint f) => SoftFloat.ToInt32From64(D(2147483648.0), Rne, ref f));
        AssertInvalid(int.MinValue, (ref uint f) => SoftFloat.ToInt32From64(D(-2147483649.0), Rne, ref f));
        AssertInvalid(int.MinValue, (ref uint f) => SoftFloat.ToInt32From64(D(-3e10), Rtz, ref f));
        AssertInvalid(int.MaxValue, (ref uint f) => SoftFloat.ToInt32From32(S(2147483648f), Rne, ref f));
        AssertInvalid(-1L, (ref uint f) => SoftFloat.ToUInt32From64(PositiveInfinity64, Rne, ref f));
        AssertInvalid(0L, (ref uint f) => SoftFloat.ToUInt32From64(NegativeInfinity64, Rne, ref f));
        AssertInvalid(-1L, (ref uint f) => SoftFloat.ToUInt32From64(D(4294967296.0), Rne, ref f));
        AssertInvalid(-1L, (ref uint f) => SoftFloat.ToUInt32From32(S(4294967296f), Rne, ref f));
        AssertInvalid(long.MaxValue, (ref uint f) => SoftFloat.ToInt64From64(D(9223372036854775808.0), Rne, ref f));
        AssertInvalid(long.MinValue, (ref uint f) => SoftFloat.ToInt64From64(NegativeInfinity64, Rne, ref f));
        AssertInvalid(long.MaxValue, (ref uint f) => SoftFloat.ToInt64From32(S(9223372036854775808f), Rne, ref f));
        AssertInvalid(long.MinValue, (ref uint f) => SoftFloat.ToInt64From32(MaxFinite32 | Sign32, Rne, ref f));
        AssertInvalid(unchecked((long)ulong.MaxValue), (ref uint f) => (long)SoftFloat.ToUInt64From64(D(18446744073709551616.0), Rne, ref f));
        AssertInvalid(unchecked((long)ulong.MaxValue), (ref uint f) => (long)SoftFloat.ToUInt64From32(PositiveInfinity32, Rne, ref f));
        AssertInvalid(0L, (ref uint f) => (long)SoftFloat.ToUInt64From64(MaxFinite64 | Sign64, Rne, ref f));
    }

    [Theory]
    [InlineData(Rne, false, int.MaxValue)] // 2147483647.5 → 2147483648: out of range
    [InlineData(Rtz, true, 2147483647)]
    [InlineData(Rdn, true, 2147483647)]
    [InlineData(Rup, false, int.MaxValue)]
    [InlineData(Rmm, false, int.MaxValue)]
    public void RangeIsJudgedAfterRounding(int rm, bool inRange, long expected)
    {
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.ToInt32From64(D(2147483647.5), rm, ref flags));
        Assert.Equal(inRange ? NX : NV, flags);
    }

    [Theory]
    [InlineData(Rne, NX, int.MinValue)] // −2147483648.5: a tie, to even −2147483648
    [InlineData(Rtz, NX, int.MinValue)]
    [InlineData(Rdn, NV, int.MinValue)] // −2147483649: out of range, saturates to the same value
    [InlineData(Rup, NX, int.MinValue)]
    [InlineData(Rmm, NV, int.MinValue)]
    public void NegativeRangeIsJudgedAfterRounding(int rm, uint expectedFlags, long expected)
    {
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.ToInt32From64(D(-2147483648.5), rm, ref flags));
        Assert.Equal(expectedFlags, flags);
    }

    [Theory]
    [InlineData(-0.9, Rtz, NX)] // rounds to −0, which is in range
    [InlineData(-0.9, Rup, NX)]
    [InlineData(-0.9, Rne, NV)] // rounds to −1
    [InlineData(-0.5, Rne, NX)] // tie to even: 0
    [InlineData(-0.5, Rmm, NV)] // tie away: −1
    [InlineData(-0.4, Rdn, NV)]
    [InlineData(-1.0, Rtz, NV)]
    [InlineData(-1.0, Rup, NV)]
    public void NegativeValuesToUnsignedAreInRangeOnlyIfTheyRoundToZero(double value, int rm, uint expectedFlags)
    {
        uint flags = 0;
        Assert.Equal(0L, SoftFloat.ToUInt32From64(D(value), rm, ref flags));
        Assert.Equal(expectedFlags, flags);
        flags = 0;
        Assert.Equal(0UL, SoftFloat.ToUInt64From64(D(value), rm, ref flags));
        Assert.Equal(expectedFlags, flags);
        flags = 0;
        Assert.Equal(0L, SoftFloat.ToUInt32From32(S((float)value), rm, ref flags));
        Assert.Equal(expectedFlags, flags);
        flags = 0;
        Assert.Equal(0UL, SoftFloat.ToUInt64From32(S((float)value), rm, ref flags));
        Assert.Equal(expectedFlags, flags);
    }

    [Theory]
    [InlineData(Rne, 16777216f, -16777216f, 9007199254740992.0, 18446744073709551616.0)]
    [InlineData(Rtz, 16777216f, -16777216f, 9007199254740992.0, 18446744073709549568.0)]
    [InlineData(Rdn, 16777216f, -16777218f, 9007199254740992.0, 18446744073709549568.0)]
    [InlineData(Rup, 16777218f, -16777216f, 9007199254740994.0, 18446744073709551616.0)]
    [InlineData(Rmm, 16777218f, -16777218f, 9007199254740994.0, 18446744073709551616.0)]
    public void ConversionFromIntegerRoundsPerMode(int rm, float plus2To24Plus1, float minus2To24Minus1, double plus2To53Plus1, double ulongMax)
    {
        uint flags = 0;
        Assert.Equal(S(plus2To24Plus1), SoftFloat.FromInt32To32(16777217, rm, ref flags));
        Assert.Equal(S(minus2To24Minus1), SoftFloat.FromInt64To32(-16777217, rm, ref flags));
        Assert.Equal(S(plus2To24Plus1), SoftFloat.FromUInt32To32(16777217, rm, ref flags));
        Assert.Equal(D(plus2To53Plus1), SoftFloat.FromInt64To64(9007199254740993, rm, ref flags));
        Assert.Equal(D(plus2To53Plus1), SoftFloat.FromUInt64To64(9007199254740993, rm, ref flags));
        Assert.Equal(D(ulongMax), SoftFloat.FromUInt64To64(ulong.MaxValue, rm, ref flags));
        Assert.Equal(NX, flags);
    }

    [Fact]
    public void ExactConversionsFromIntegerRaiseNothing()
    {
        uint flags = 0;
        Assert.Equal(PositiveZero64, SoftFloat.FromInt64To64(0, Rdn, ref flags));
        Assert.Equal(PositiveZero32, SoftFloat.FromInt32To32(0, Rdn, ref flags));
        Assert.Equal(D(int.MinValue), SoftFloat.FromInt32To64(int.MinValue, Rne, ref flags));
        Assert.Equal(D(uint.MaxValue), SoftFloat.FromUInt32To64(uint.MaxValue, Rne, ref flags));
        Assert.Equal(D(-9223372036854775808.0), SoftFloat.FromInt64To64(long.MinValue, Rne, ref flags));
        Assert.Equal(S(-9223372036854775808f), SoftFloat.FromInt64To32(long.MinValue, Rne, ref flags));
        Assert.Equal(S(-1f), SoftFloat.FromInt32To32(-1, Rne, ref flags));
        Assert.Equal(S(16777216f), SoftFloat.FromUInt64To32(16777216, Rne, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(S(4294967296f), SoftFloat.FromUInt32To32(uint.MaxValue, Rne, ref flags));
        Assert.Equal(S(4294967040f), SoftFloat.FromUInt32To32(uint.MaxValue, Rtz, ref flags));
        Assert.Equal(S(9223372036854775808f), SoftFloat.FromInt64To32(long.MaxValue, Rne, ref flags));
        Assert.Equal(0x5EFF_FFFFU, SoftFloat.FromInt64To32(long.MaxValue, Rtz, ref flags));
        Assert.Equal(NX, flags);
    }

    [Theory]
    [InlineData(Rne, PositiveInfinity32)]
    [InlineData(Rtz, MaxFinite32)]
    [InlineData(Rdn, MaxFinite32)]
    [InlineData(Rup, PositiveInfinity32)]
    [InlineData(Rmm, PositiveInfinity32)]
    public void NarrowingOverflowFollowsTheRoundingMode(int rm, uint expected)
    {
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Float64To32(D(1e39), rm, ref flags));
        Assert.Equal(OF | NX, flags);
        flags = 0;
        int mirrored = rm == Rdn ? Rup : rm == Rup ? Rdn : rm;
        Assert.Equal(expected | Sign32, SoftFloat.Float64To32(MaxFinite64 | Sign64, mirrored, ref flags));
        Assert.Equal(OF | NX, flags);
    }

    [Theory]
    [InlineData(Rne, MinNormal32, NX)]
    [InlineData(Rtz, MaxSubnormal32, UF | NX)]
    [InlineData(Rdn, MaxSubnormal32, UF | NX)]
    [InlineData(Rup, MinNormal32, NX)]
    [InlineData(Rmm, MinNormal32, NX)]
    public void NarrowingDetectsTininessAfterRounding(int rm, uint expected, uint expectedFlags)
    {
        // 2^-126 × (1 − 2^-25) rounds to 2^-126 at 24 bits in RNE (tie to even), RUP and RMM: not tiny.
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Float64To32(D(Exp2(-126) * (1 - Exp2(-25))), rm, ref flags));
        Assert.Equal(expectedFlags, flags);
    }

    [Fact]
    public void NarrowingToSubnormalsAndZero()
    {
        uint flags = 0;
        Assert.Equal(MinSubnormal32, SoftFloat.Float64To32(D(Exp2(-149)), Rne, ref flags));
        Assert.Equal(MaxSubnormal32, SoftFloat.Float64To32(D(Exp2(-126) - Exp2(-149)), Rne, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(PositiveZero32, SoftFloat.Float64To32(D(1e-46), Rne, ref flags));
        Assert.Equal(MinSubnormal32, SoftFloat.Float64To32(D(1e-46), Rup, ref flags));
        Assert.Equal(NegativeZero32, SoftFloat.Float64To32(MinSubnormal64 | Sign64, Rup, ref flags));
        Assert.Equal(UF | NX, flags);
        flags = 0;
        Assert.Equal(MaxFinite32, SoftFloat.Float64To32(D(float.MaxValue + Exp2(102)), Rne, ref flags)); // ¼ ulp above
        Assert.Equal(NX, flags);
    }

    [Fact]
    public void NarrowingSpecialValues()
    {
        uint flags = 0;
        Assert.Equal(NegativeZero32, SoftFloat.Float64To32(NegativeZero64, Rne, ref flags));
        Assert.Equal(NegativeInfinity32, SoftFloat.Float64To32(NegativeInfinity64, Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.Float64To32(QuietNaNWithPayload64, Rne, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.Float64To32(SignalingNaN64, Rne, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void WideningIsExact()
    {
        uint flags = 0;
        Assert.Equal(D(0.1f), SoftFloat.Float32To64(S(0.1f), ref flags));
        Assert.Equal(D(Exp2(-149)), SoftFloat.Float32To64(MinSubnormal32, ref flags));
        Assert.Equal(D(-(Exp2(-126) - Exp2(-149))), SoftFloat.Float32To64(MaxSubnormal32 | Sign32, ref flags));
        Assert.Equal(D(float.MaxValue), SoftFloat.Float32To64(MaxFinite32, ref flags));
        Assert.Equal(NegativeZero64, SoftFloat.Float32To64(NegativeZero32, ref flags));
        Assert.Equal(PositiveInfinity64, SoftFloat.Float32To64(PositiveInfinity32, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Float32To64(QuietNaNWithPayload32, ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Float32To64(SignalingNaN32, ref flags));
        Assert.Equal(NV, flags);
    }

    private delegate long Conversion(ref uint flags);

    private static void AssertInvalid(long expected, Conversion conversion)
    {
        uint flags = 0;
        Assert.Equal(expected, conversion(ref flags));
        Assert.Equal(NV, flags);
    }
}
