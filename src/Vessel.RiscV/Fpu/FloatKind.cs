namespace Vessel.RiscV.Fpu;

/// <summary>What an encoded floating-point datum is, once unpacked.</summary>
internal enum FloatKind
{
    Zero,
    Finite,
    Infinity,
    QuietNaN,
    SignalingNaN,
}
