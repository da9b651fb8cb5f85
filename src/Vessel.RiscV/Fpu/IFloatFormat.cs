namespace Vessel.RiscV.Fpu;

/// <summary>
/// An IEEE 754 binary interchange format (IEEE 754-2008 §3.6, table 3.5). The parameters are static so the JIT
/// compiles the generic soft-float core once per format with every derived quantity folded to a constant.
/// </summary>
internal interface IFloatFormat
{
    /// <summary>Width of the biased exponent field (w).</summary>
    static abstract int ExponentBits { get; }

    /// <summary>Width of the trailing significand field (t = p − 1).</summary>
    static abstract int FractionBits { get; }
}
