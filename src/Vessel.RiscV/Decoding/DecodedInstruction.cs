using System.Runtime.InteropServices;

namespace Vessel.RiscV.Decoding;

/// <summary>
/// One decoded instruction, 16 bytes. <see cref="Raw"/> is the instruction word (a compressed parcel
/// zero-extended) that produced it: the decode cache compares it with the bytes fetched, so a cached entry is
/// always valid for the code actually in memory and self-modifying code needs no invalidation.
/// Integer destination x0 is decoded as <see cref="Hart.SinkRegister"/> so writes need no x0 check.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct DecodedInstruction
{
    public uint Raw;
    public Opcode Op;
    public byte Rd;
    public byte Rs1;
    public byte Rs2;
    public byte Rs3;

    /// <summary>Instruction length in bytes: 2 (compressed) or 4.</summary>
    public byte Length;

    /// <summary>Rounding mode field for F/D instructions.</summary>
    public byte Rm;

    /// <summary>Sign-extended immediate, shift amount, or CSR number.</summary>
    public int Imm;
}
