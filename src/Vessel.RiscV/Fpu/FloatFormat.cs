namespace Vessel.RiscV.Fpu;

/// <summary>An IEEE 754 binary interchange format's parameters (IEEE 754-2008 table 3.5).</summary>
internal readonly struct FloatFormat(int exponentBits, int fractionBits)
{
    public static readonly FloatFormat Single = new(8, 23);
    public static readonly FloatFormat Double = new(11, 52);

    public readonly int FractionBits = fractionBits;
    public readonly int Bias = (1 << (exponentBits - 1)) - 1;
    public readonly int MaxBiasedExponent = (1 << exponentBits) - 1;
    public readonly ulong FractionMask = (1UL << fractionBits) - 1;
    public readonly int SignShift = exponentBits + fractionBits;

    public ulong SignBit => 1UL << SignShift;

    public ulong Infinity(bool negative) => (negative ? SignBit : 0) | ((ulong)MaxBiasedExponent << FractionBits);

    public ulong MaxFinite(bool negative) => (negative ? SignBit : 0) | (((ulong)MaxBiasedExponent - 1) << FractionBits) | FractionMask;

    public ulong Zero(bool negative) => negative ? SignBit : 0;

    public ulong CanonicalNaN => ((ulong)MaxBiasedExponent << FractionBits) | (1UL << (FractionBits - 1));
}
