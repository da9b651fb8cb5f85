namespace Vessel.RiscV.Fpu;

/// <summary>
/// A decoded floating-point datum. For <see cref="FloatKind.Finite"/> values (normal or subnormal), the value is
/// Significand × 2^(Exponent − 62) with the significand's leading one at bit 62, whatever the format: a common
/// working precision of 63 bits, the bits below the format's precision being guard bits.
/// </summary>
internal struct UnpackedFloat
{
    /// <summary>Bit position of the leading one of a normalised <see cref="Significand"/>.</summary>
    public const int Point = 62;

    public FloatKind Kind;
    public bool Sign;
    public int Exponent;
    public ulong Significand;

    public readonly bool IsNaN => Kind >= FloatKind.QuietNaN;

    public readonly bool IsSignalingNaN => Kind == FloatKind.SignalingNaN;
}
