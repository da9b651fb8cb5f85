namespace Vessel.RiscV.Tests;

/// <summary>Encodes RV64 instructions for tests (unprivileged spec ch. 2 formats).</summary>
internal static class InstructionEncoder
{
    public static uint R(uint opcode, int rd, uint funct3, int rs1, int rs2, uint funct7) =>
        opcode | ((uint)rd << 7) | (funct3 << 12) | ((uint)rs1 << 15) | ((uint)rs2 << 20) | (funct7 << 25);

    public static uint I(uint opcode, int rd, uint funct3, int rs1, int imm) =>
        opcode | ((uint)rd << 7) | (funct3 << 12) | ((uint)rs1 << 15) | ((uint)imm << 20);

    public static uint S(uint opcode, uint funct3, int rs1, int rs2, int imm) =>
        opcode | (((uint)imm & 31) << 7) | (funct3 << 12) | ((uint)rs1 << 15) | ((uint)rs2 << 20) | (((uint)imm >> 5) << 25);

    public static uint B(uint funct3, int rs1, int rs2, int imm) =>
        0x63 | ((((uint)imm >> 11) & 1) << 7) | ((((uint)imm >> 1) & 15) << 8) | (funct3 << 12) | ((uint)rs1 << 15) |
        ((uint)rs2 << 20) | ((((uint)imm >> 5) & 63) << 25) | ((((uint)imm >> 12) & 1) << 31);

    public static uint U(uint opcode, int rd, int imm) => opcode | ((uint)rd << 7) | ((uint)imm & 0xFFFFF000);

    public static uint Addi(int rd, int rs1, int imm) => I(0x13, rd, 0, rs1, imm);

    public static uint Lui(int rd, int imm) => U(0x37, rd, imm);

    public static uint Ld(int rd, int rs1, int imm) => I(0x03, rd, 3, rs1, imm);

    public static uint Lw(int rd, int rs1, int imm) => I(0x03, rd, 2, rs1, imm);

    public static uint Sd(int rs2, int rs1, int imm) => S(0x23, 3, rs1, rs2, imm);

    public static uint Csrrw(int rd, int csr, int rs1) => I(0x73, rd, 1, rs1, csr);

    public static uint Csrrs(int rd, int csr, int rs1) => I(0x73, rd, 2, rs1, csr);

    public static uint Op(int rd, int rs1, int rs2, uint funct3, uint funct7) => R(0x33, rd, funct3, rs1, rs2, funct7);

    public static uint Op32(int rd, int rs1, int rs2, uint funct3, uint funct7) => R(0x3B, rd, funct3, rs1, rs2, funct7);

    public const uint Mret = 0x30200073;
    public const uint Sret = 0x10200073;
    public const uint Ecall = 0x00000073;
    public const uint Ebreak = 0x00100073;
    public const uint Wfi = 0x10500073;
}
