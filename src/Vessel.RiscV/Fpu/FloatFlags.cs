namespace Vessel.RiscV.Fpu;

/// <summary>The accrued exception bits of the RISC-V fflags CSR (unprivileged spec, F chapter, table "fflags").</summary>
internal static class FloatFlags
{
    public const uint Invalid = 0x10;
    public const uint DivideByZero = 0x08;
    public const uint Overflow = 0x04;
    public const uint Underflow = 0x02;
    public const uint Inexact = 0x01;
}
