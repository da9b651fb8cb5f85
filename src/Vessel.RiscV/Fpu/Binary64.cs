namespace Vessel.RiscV.Fpu;

/// <summary>IEEE 754 binary64, the RISC-V D extension's format.</summary>
internal readonly struct Binary64 : IFloatFormat
{
    public static int ExponentBits => 11;

    public static int FractionBits => 52;
}
