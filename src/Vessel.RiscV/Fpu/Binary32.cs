namespace Vessel.RiscV.Fpu;

/// <summary>IEEE 754 binary32, the RISC-V F extension's format.</summary>
internal readonly struct Binary32 : IFloatFormat
{
    public static int ExponentBits => 8;

    public static int FractionBits => 23;
}
