namespace Vessel.Benchmarks;

/// <summary>The few RV64I encodings the benchmark programs use (unprivileged spec ch. 2 and 4, "RV32I/RV64I base").</summary>
internal static class RiscVEncoding
{
    public static uint Addi(int rd, int rs1, int imm) => I(imm, rs1, 0b000, rd, 0b0010011);

    public static uint Xori(int rd, int rs1, int imm) => I(imm, rs1, 0b100, rd, 0b0010011);

    public static uint Add(int rd, int rs1, int rs2) => R(0, rs2, rs1, 0b000, rd, 0b0110011);

    public static uint Xor(int rd, int rs1, int rs2) => R(0, rs2, rs1, 0b100, rd, 0b0110011);

    public static uint Slli(int rd, int rs1, int shamt) => I(shamt & 63, rs1, 0b001, rd, 0b0010011);

    public static uint Ld(int rd, int rs1, int imm) => I(imm, rs1, 0b011, rd, 0b0000011);

    public static uint Sd(int rs2, int rs1, int imm) =>
        ((uint)(imm >> 5) & 0x7f) << 25 | (uint)rs2 << 20 | (uint)rs1 << 15 | 0b011u << 12 | ((uint)imm & 0x1f) << 7 | 0b0100011;

    /// <summary>JAL with a byte offset (±1 MiB, even).</summary>
    public static uint Jal(int rd, int offset)
    {
        uint o = (uint)offset;
        return ((o >> 20) & 1) << 31 | ((o >> 1) & 0x3ff) << 21 | ((o >> 11) & 1) << 20 | ((o >> 12) & 0xff) << 12 | (uint)rd << 7 | 0b1101111;
    }

    private static uint I(int imm, int rs1, uint funct3, int rd, uint opcode) =>
        ((uint)imm & 0xfff) << 20 | (uint)rs1 << 15 | funct3 << 12 | (uint)rd << 7 | opcode;

    private static uint R(uint funct7, int rs2, int rs1, uint funct3, int rd, uint opcode) =>
        funct7 << 25 | (uint)rs2 << 20 | (uint)rs1 << 15 | funct3 << 12 | (uint)rd << 7 | opcode;
}
