namespace Vessel.RiscV.Fpu;

/// <summary>The RISC-V rounding-mode encodings (unprivileged spec, F chapter, "Rounding mode encoding").</summary>
internal static class RoundingMode
{
    /// <summary>Round to nearest, ties to even.</summary>
    public const int NearestEven = 0;

    /// <summary>Round towards zero.</summary>
    public const int TowardZero = 1;

    /// <summary>Round down, towards −∞.</summary>
    public const int Down = 2;

    /// <summary>Round up, towards +∞.</summary>
    public const int Up = 3;

    /// <summary>Round to nearest, ties to max magnitude.</summary>
    public const int NearestMaxMagnitude = 4;
}
