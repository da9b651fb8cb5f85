using Vessel.RiscV.Fpu;

namespace Vessel.RiscV.Tests.Fpu;

/// <summary>IEEE 754 corner cases for the F/D soft-float (RISC-V unprivileged spec ch. 20–21).</summary>
public sealed class SoftFloatTests
{
    private const int Rne = 0, Rtz = 1, Rdn = 2, Rup = 3, Rmm = 4;
    private const uint NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;

    private static ulong D(double v) => BitConverter.DoubleToUInt64Bits(v);

    private static uint S(float v) => BitConverter.SingleToUInt32Bits(v);

    private const ulong SignalingNaN64 = 0x7FF0_0000_0000_0001;
    private const uint SignalingNaN32 = 0x7F80_0001;
    private const ulong MinSubnormal64 = 1;
    private const ulong MinNormal64 = 0x0010_0000_0000_0000;

    [Fact]
    public void NaNResultsAreCanonicalAndSignalingInputsRaiseInvalid()
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Add64(0xFFF8_0000_0000_1234, D(1), Rne, ref flags));
        Assert.Equal(0u, flags); // quiet NaN in: no flag
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Mul64(SignalingNaN64, D(1), Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.Div32(SignalingNaN32, S(1), Rne, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void InvalidOperationsGiveTheCanonicalNaN()
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Add64(D(double.PositiveInfinity), D(double.NegativeInfinity), Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Mul64(D(0), D(double.PositiveInfinity), Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Div64(D(0), D(-0.0), Rne, ref flags));
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Sqrt64(D(-1), Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(D(-0.0), SoftFloat.Sqrt64(D(-0.0), Rne, ref flags)); // sqrt(-0) = -0
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void DivisionByZeroRaisesDz()
    {
        uint flags = 0;
        Assert.Equal(D(double.NegativeInfinity), SoftFloat.Div64(D(-3), D(0), Rne, ref flags));
        Assert.Equal(DZ, flags);
    }

    [Theory]
    [InlineData(Rne, 0x7FF0_0000_0000_0000UL)]
    [InlineData(Rtz, 0x7FEF_FFFF_FFFF_FFFFUL)]
    [InlineData(Rdn, 0x7FEF_FFFF_FFFF_FFFFUL)]
    [InlineData(Rup, 0x7FF0_0000_0000_0000UL)]
    [InlineData(Rmm, 0x7FF0_0000_0000_0000UL)]
    public void OverflowDependsOnTheRoundingMode(int rm, ulong expected)
    {
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Mul64(D(double.MaxValue), D(2), rm, ref flags));
        Assert.Equal(OF | NX, flags);
    }

    [Fact]
    public void NegativeOverflowRoundsTowardTheRightInfinity()
    {
        uint flags = 0;
        Assert.Equal(D(double.NegativeInfinity), SoftFloat.Mul64(D(-double.MaxValue), D(2), Rdn, ref flags));
        Assert.Equal(D(-double.MaxValue), SoftFloat.Mul64(D(-double.MaxValue), D(2), Rup, ref flags));
    }

    [Fact]
    public void ExactZeroSumsArePositiveExceptWhenRoundingDown()
    {
        uint flags = 0;
        Assert.Equal(D(0.0), SoftFloat.Sub64(D(1.5), D(1.5), Rne, ref flags));
        Assert.Equal(D(-0.0), SoftFloat.Sub64(D(1.5), D(1.5), Rdn, ref flags));
        Assert.Equal(D(-0.0), SoftFloat.Add64(D(-0.0), D(-0.0), Rne, ref flags));
        Assert.Equal(D(0.0), SoftFloat.Add64(D(-0.0), D(0.0), Rne, ref flags));
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void SubnormalResultsRaiseUnderflowOnlyWhenInexact()
    {
        uint flags = 0;
        Assert.Equal(MinSubnormal64, SoftFloat.Div64(MinNormal64, D(Math.Pow(2, 52)), Rne, ref flags));
        Assert.Equal(0u, flags); // exact subnormal: no UF
        Assert.Equal(0UL, SoftFloat.Mul64(MinSubnormal64, D(0.25), Rne, ref flags)); // 2^-1076 rounds to 0
        Assert.Equal(UF | NX, flags);
    }

    [Fact]
    public void TininessIsDetectedAfterRounding()
    {
        // 2^-1022 - 2^-1076 = (2^-1022)(1 - 2^-54) is below the smallest normal, but with an unbounded exponent
        // it rounds (RNE, a tie to even) up to 2^-1022: RISC-V detects tininess after rounding, so NX and no UF.
        ulong justBelowMinNormal = MinNormal64 - 1;
        ulong minus2ToMinus54 = D(-Math.Pow(2, -54));
        uint flags = 0;
        Assert.Equal(MinNormal64, SoftFloat.MulAdd64(minus2ToMinus54, MinNormal64, MinNormal64, Rne, ref flags));
        Assert.Equal(NX, flags);
        flags = 0;
        Assert.Equal(justBelowMinNormal, SoftFloat.MulAdd64(minus2ToMinus54, MinNormal64, MinNormal64, Rtz, ref flags));
        Assert.Equal(UF | NX, flags);
    }

    [Theory]
    [InlineData(Rne, 2.0)]
    [InlineData(Rtz, 2.0)]
    [InlineData(Rdn, 2.0)]
    [InlineData(Rup, 3.0)]
    [InlineData(Rmm, 3.0)]
    public void HalfwayCasesFollowTheRoundingMode(int rm, double expected)
    {
        uint flags = 0;
        Assert.Equal(expected, (double)SoftFloat.ToInt64From64(D(2.5), rm, ref flags));
        Assert.Equal(NX, flags);
    }

    [Theory]
    [InlineData(Rne, 0x3F80_0000u)] // 1 + 2^-24 is a tie: to even, 1.0
    [InlineData(Rup, 0x3F80_0001u)]
    [InlineData(Rmm, 0x3F80_0001u)]
    [InlineData(Rtz, 0x3F80_0000u)]
    public void SingleAdditionRoundsTies(int rm, uint expected)
    {
        uint flags = 0;
        Assert.Equal(expected, SoftFloat.Add32(S(1f), 0x3380_0000, rm, ref flags)); // 0x33800000 = 2^-24
        Assert.Equal(NX, flags);
    }

    [Fact]
    public void FusedMultiplyAddRoundsOnce()
    {
        // a*b = 1 - 2^-60 exactly; unfused it would round to 1 and give 0.
        double a = 1 + Math.Pow(2, -30), b = 1 - Math.Pow(2, -30);
        uint flags = 0;
        double r = BitConverter.UInt64BitsToDouble(SoftFloat.MulAdd64(D(a), D(b), D(-1), Rne, ref flags));
        Assert.Equal(-Math.Pow(2, -60), r);
        Assert.Equal(0u, flags);
    }

    [Fact]
    public void InfinityTimesZeroPlusQuietNaNIsInvalid()
    {
        uint flags = 0;
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.MulAdd64(D(double.PositiveInfinity), D(0), SoftFloat.CanonicalNaN64, Rne, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void MinMaxTreatNaNsAndSignedZeros()
    {
        uint flags = 0;
        Assert.Equal(D(-0.0), SoftFloat.Min64(D(0.0), D(-0.0), ref flags));
        Assert.Equal(D(0.0), SoftFloat.Max64(D(-0.0), D(0.0), ref flags));
        Assert.Equal(D(3), SoftFloat.Min64(SoftFloat.CanonicalNaN64, D(3), ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(D(3), SoftFloat.Max64(SignalingNaN64, D(3), ref flags));
        Assert.Equal(NV, flags);
        Assert.Equal(SoftFloat.CanonicalNaN32, SoftFloat.Min32(SignalingNaN32, SoftFloat.CanonicalNaN32, ref flags));
    }

    [Fact]
    public void ComparisonsAreQuietOrSignalingAsSpecified()
    {
        uint flags = 0;
        Assert.False(SoftFloat.Eq64(SoftFloat.CanonicalNaN64, D(1), ref flags));
        Assert.Equal(0u, flags); // feq is quiet
        Assert.False(SoftFloat.Lt64(SoftFloat.CanonicalNaN64, D(1), ref flags));
        Assert.Equal(NV, flags); // flt signals on any NaN
        flags = 0;
        Assert.True(SoftFloat.Eq64(D(0.0), D(-0.0), ref flags));
        Assert.True(SoftFloat.Le32(S(-0f), S(0f), ref flags));
        Assert.False(SoftFloat.Lt32(S(-0f), S(0f), ref flags));
        Assert.Equal(0u, flags);
    }

    [Theory]
    [InlineData(double.NegativeInfinity, 0)]
    [InlineData(-1.0, 1)]
    [InlineData(-5e-324, 2)]
    [InlineData(-0.0, 3)]
    [InlineData(0.0, 4)]
    [InlineData(5e-324, 5)]
    [InlineData(1.0, 6)]
    [InlineData(double.PositiveInfinity, 7)]
    public void FclassHasOneBitPerClass(double value, int bit)
    {
        Assert.Equal(1UL << bit, SoftFloat.Class64(D(value)));
    }

    [Fact]
    public void FclassOfNaNs()
    {
        Assert.Equal(1UL << 8, SoftFloat.Class64(SignalingNaN64));
        Assert.Equal(1UL << 9, SoftFloat.Class64(SoftFloat.CanonicalNaN64));
        Assert.Equal(1UL << 8, SoftFloat.Class32(SignalingNaN32));
    }

    [Fact]
    public void ConversionsToIntegersSaturate()
    {
        uint flags = 0;
        Assert.Equal(int.MaxValue, SoftFloat.ToInt32From64(SoftFloat.CanonicalNaN64, Rne, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(int.MinValue, SoftFloat.ToInt32From64(D(-3e10), Rne, ref flags));
        Assert.Equal(NV, flags); // NV, not NX
        flags = 0;
        Assert.Equal(0L, SoftFloat.ToUInt32From64(D(-0.9), Rtz, ref flags));
        Assert.Equal(NX, flags); // rounds into range
        flags = 0;
        Assert.Equal(0L, SoftFloat.ToUInt32From64(D(-1.0), Rtz, ref flags));
        Assert.Equal(NV, flags);
        flags = 0;
        Assert.Equal(-1L, SoftFloat.ToUInt32From64(D(double.PositiveInfinity), Rne, ref flags)); // 0xFFFFFFFF sign-extended
        Assert.Equal(ulong.MaxValue, SoftFloat.ToUInt64From32(S(float.PositiveInfinity), Rne, ref flags));
        Assert.Equal(long.MinValue, SoftFloat.ToInt64From64(D(-9.223372036854775808e18), Rne, ref flags));
    }

    [Fact]
    public void ConversionsFromIntegersRound()
    {
        uint flags = 0;
        Assert.Equal(S(16777216f), SoftFloat.FromInt32To32(16777217, Rne, ref flags));
        Assert.Equal(NX, flags);
        flags = 0;
        Assert.Equal(S(16777218f), SoftFloat.FromInt32To32(16777217, Rup, ref flags));
        Assert.Equal(D(-9.223372036854775808e18), SoftFloat.FromInt64To64(long.MinValue, Rne, ref flags));
        Assert.Equal(D(1.8446744073709552e19), SoftFloat.FromUInt64To64(ulong.MaxValue, Rne, ref flags));
    }

    [Fact]
    public void NarrowingConversionRoundsAndWideningIsExact()
    {
        uint flags = 0;
        Assert.Equal(S(float.PositiveInfinity), SoftFloat.Float64To32(D(1e39), Rne, ref flags));
        Assert.Equal(OF | NX, flags);
        flags = 0;
        Assert.Equal(D(0.1f), SoftFloat.Float32To64(S(0.1f), ref flags));
        Assert.Equal(0u, flags);
        Assert.Equal(SoftFloat.CanonicalNaN64, SoftFloat.Float32To64(SignalingNaN32, ref flags));
        Assert.Equal(NV, flags);
    }

    [Fact]
    public void RoundToNearestEvenMatchesTheHostBitForBit()
    {
        // .NET's double/float arithmetic is IEEE 754 round-to-nearest-even: the soft-float must agree exactly.
        var random = new Random(12345);
        for (int i = 0; i < 200_000; i++)
        {
            double a = RandomDouble(random), b = RandomDouble(random), c = RandomDouble(random);
            uint flags = 0;
            AssertSame(a + b, SoftFloat.Add64(D(a), D(b), Rne, ref flags));
            AssertSame(a - b, SoftFloat.Sub64(D(a), D(b), Rne, ref flags));
            AssertSame(a * b, SoftFloat.Mul64(D(a), D(b), Rne, ref flags));
            AssertSame(a / b, SoftFloat.Div64(D(a), D(b), Rne, ref flags));
            AssertSame(Math.Sqrt(a), SoftFloat.Sqrt64(D(a), Rne, ref flags));
            AssertSame(Math.FusedMultiplyAdd(a, b, c), SoftFloat.MulAdd64(D(a), D(b), D(c), Rne, ref flags));

            float x = (float)a, y = (float)b, z = (float)c;
            AssertSame(x + y, SoftFloat.Add32(S(x), S(y), Rne, ref flags));
            AssertSame(x * y, SoftFloat.Mul32(S(x), S(y), Rne, ref flags));
            AssertSame(x / y, SoftFloat.Div32(S(x), S(y), Rne, ref flags));
            AssertSame(MathF.Sqrt(x), SoftFloat.Sqrt32(S(x), Rne, ref flags));
            AssertSame(MathF.FusedMultiplyAdd(x, y, z), SoftFloat.MulAdd32(S(x), S(y), S(z), Rne, ref flags));
            AssertSame((float)a, SoftFloat.Float64To32(D(a), Rne, ref flags));
        }
    }

    private static double RandomDouble(Random random)
    {
        // Mix ordinary values, subnormals, huge values and exact small integers so every path is exercised.
        return random.Next(6) switch
        {
            0 => BitConverter.UInt64BitsToDouble((ulong)random.NextInt64() & 0x000F_FFFF_FFFF_FFFF),
            1 => BitConverter.UInt64BitsToDouble((ulong)random.NextInt64()),
            2 => random.Next(-100, 100),
            3 => (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-1074, 1023)),
            4 => BitConverter.UInt64BitsToDouble(0x3800_0000_0000_0000 | ((ulong)random.NextInt64() & 0x07FF_FFFF_FFFF_FFFF)),
            _ => random.NextDouble(),
        };
    }

    private static void AssertSame(double expected, ulong actual)
    {
        ulong e = double.IsNaN(expected) ? SoftFloat.CanonicalNaN64 : D(expected);
        Assert.True(e == actual, $"expected {expected:R} (0x{e:x16}), got 0x{actual:x16}");
    }

    private static void AssertSame(float expected, uint actual)
    {
        uint e = float.IsNaN(expected) ? SoftFloat.CanonicalNaN32 : S(expected);
        Assert.True(e == actual, $"expected {expected:R} (0x{e:x8}), got 0x{actual:x8}");
    }
}
