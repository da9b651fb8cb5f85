namespace Vessel.RiscV.Tests.Fpu;

/// <summary>Encodings, rounding modes and flag bits shared by the soft-float tests.</summary>
internal static class FloatTestValues
{
    public const int Rne = 0, Rtz = 1, Rdn = 2, Rup = 3, Rmm = 4;
    public const uint NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;

    public const ulong PositiveZero64 = 0, NegativeZero64 = 0x8000_0000_0000_0000;
    public const ulong PositiveInfinity64 = 0x7FF0_0000_0000_0000, NegativeInfinity64 = 0xFFF0_0000_0000_0000;
    public const ulong MaxFinite64 = 0x7FEF_FFFF_FFFF_FFFF;
    public const ulong MinNormal64 = 0x0010_0000_0000_0000;
    public const ulong MaxSubnormal64 = 0x000F_FFFF_FFFF_FFFF;
    public const ulong MinSubnormal64 = 1;
    public const ulong SignalingNaN64 = 0x7FF0_0000_0000_0001;
    public const ulong QuietNaNWithPayload64 = 0xFFF8_0000_0000_1234;

    public const uint PositiveZero32 = 0, NegativeZero32 = 0x8000_0000;
    public const uint PositiveInfinity32 = 0x7F80_0000, NegativeInfinity32 = 0xFF80_0000;
    public const uint MaxFinite32 = 0x7F7F_FFFF;
    public const uint MinNormal32 = 0x0080_0000;
    public const uint MaxSubnormal32 = 0x007F_FFFF;
    public const uint MinSubnormal32 = 1;
    public const uint SignalingNaN32 = 0x7F80_0001;
    public const uint QuietNaNWithPayload32 = 0xFFC0_1234;

    public const ulong Sign64 = 1UL << 63;
    public const uint Sign32 = 1U << 31;

    public static ulong D(double v) => BitConverter.DoubleToUInt64Bits(v);

    public static uint S(float v) => BitConverter.SingleToUInt32Bits(v);

    /// <summary>2^<paramref name="exponent"/>, exactly.</summary>
    public static double Exp2(int exponent) => Math.ScaleB(1.0, exponent);

    /// <summary>2^<paramref name="exponent"/> in single precision, exactly.</summary>
    public static float Exp2F(int exponent) => MathF.ScaleB(1f, exponent);

    /// <summary>2^<paramref name="exponent"/> as a binary64 encoding (normal or subnormal).</summary>
    public static ulong Pow2(int exponent) => D(Math.ScaleB(1.0, exponent));

    /// <summary>2^<paramref name="exponent"/> as a binary32 encoding (normal or subnormal).</summary>
    public static uint Pow2F(int exponent) => S(MathF.ScaleB(1f, exponent));
}
