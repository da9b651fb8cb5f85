namespace Vessel.RiscV.Decoding;

/// <summary>
/// Expands 16-bit RVC parcels into their 32-bit RV64G equivalents
/// (RISC-V unprivileged spec, "C" Standard Extension, RVC instruction set listings for RV64C).
/// </summary>
/// <remarks>
/// Only the RV64GC instruction set is recognised: slots taken by RV32-only instructions
/// (c.flw, c.fsw, c.jal, ...) and by later extensions (Zcb, Zcmp, Zcmt) are reserved here.
/// HINT encodings are legal and expand to instructions whose only destination is x0
/// (or, for the shift HINTs with shamt = 0, to a shift by zero), so they have no effect.
/// </remarks>
public static class CompressedExpander
{
    /// <summary>The value returned for an illegal or reserved parcel; never a valid 32-bit instruction.</summary>
    public const uint Illegal = 0;

    // Major opcodes of the 32-bit base encoding (unprivileged spec, "RV32/64G Instruction Set Listings").
    private const uint OpcodeLoad = 0b000_0011;
    private const uint OpcodeLoadFp = 0b000_0111;
    private const uint OpcodeOpImm = 0b001_0011;
    private const uint OpcodeOpImm32 = 0b001_1011;
    private const uint OpcodeStore = 0b010_0011;
    private const uint OpcodeStoreFp = 0b010_0111;
    private const uint OpcodeOp = 0b011_0011;
    private const uint OpcodeLui = 0b011_0111;
    private const uint OpcodeOp32 = 0b011_1011;
    private const uint OpcodeBranch = 0b110_0011;
    private const uint OpcodeJalr = 0b110_0111;
    private const uint OpcodeJal = 0b110_1111;

    private const uint Ebreak = 0x0010_0073;

    private const uint ZeroRegister = 0;
    private const uint ReturnAddressRegister = 1;
    private const uint StackPointerRegister = 2;

    /// <summary>
    /// Returns the equivalent 32-bit RV64G instruction word for a 16-bit RVC parcel (low two bits != 0b11),
    /// or 0 if the encoding is illegal or reserved (0 is never a valid 32-bit instruction).
    /// A parcel whose low two bits are 0b11 is not compressed and also yields 0.
    /// </summary>
    public static uint Expand(ushort parcel)
    {
        return (parcel & 0b11) switch
        {
            0b00 => ExpandQuadrant0(parcel),
            0b01 => ExpandQuadrant1(parcel),
            0b10 => ExpandQuadrant2(parcel),
            _ => Illegal,
        };
    }

    // Quadrant 0: stack-pointer-based add and loads/stores with 3-bit register fields (CIW, CL, CS formats).
    private static uint ExpandQuadrant0(uint parcel)
    {
        var rdOrRs2 = CompressedRegister(parcel, 2);
        var rs1 = CompressedRegister(parcel, 7);

        return Funct3(parcel) switch
        {
            // C.ADDI4SPN: addi rd', x2, nzuimm[9:2]; nzuimm = 0 is reserved (covers the all-zero parcel).
            0b000 => ExpandAddi4Spn(parcel, rdOrRs2),
            // C.FLD: fld rd', uimm[7:3](rs1').
            0b001 => EncodeI(OpcodeLoadFp, 0b011, rdOrRs2, rs1, DoublewordOffset(parcel)),
            // C.LW: lw rd', uimm[6:2](rs1').
            0b010 => EncodeI(OpcodeLoad, 0b010, rdOrRs2, rs1, WordOffset(parcel)),
            // C.LD (RV64C; c.flw on RV32): ld rd', uimm[7:3](rs1').
            0b011 => EncodeI(OpcodeLoad, 0b011, rdOrRs2, rs1, DoublewordOffset(parcel)),
            // C.FSD: fsd rs2', uimm[7:3](rs1').
            0b101 => EncodeS(OpcodeStoreFp, 0b011, rs1, rdOrRs2, DoublewordOffset(parcel)),
            // C.SW: sw rs2', uimm[6:2](rs1').
            0b110 => EncodeS(OpcodeStore, 0b010, rs1, rdOrRs2, WordOffset(parcel)),
            // C.SD (RV64C; c.fsw on RV32): sd rs2', uimm[7:3](rs1').
            0b111 => EncodeS(OpcodeStore, 0b011, rs1, rdOrRs2, DoublewordOffset(parcel)),
            // funct3 = 100 is reserved (Zcb's loads/stores are not part of RV64GC).
            _ => Illegal,
        };
    }

    // C.ADDI4SPN: nzuimm[5:4|9:6|2|3] in bits 12:5.
    private static uint ExpandAddi4Spn(uint parcel, uint rd)
    {
        var nzuimm = (Bits(parcel, 11, 2) << 4) | (Bits(parcel, 7, 4) << 6)
            | (Bits(parcel, 6, 1) << 2) | (Bits(parcel, 5, 1) << 3);
        return nzuimm == 0 ? Illegal : EncodeI(OpcodeOpImm, 0b000, rd, StackPointerRegister, nzuimm);
    }

    // Quadrant 1: immediates, arithmetic, jumps and branches (CI, CB, CA, CJ formats).
    private static uint ExpandQuadrant1(uint parcel)
    {
        var rd = Bits(parcel, 7, 5);
        var immediate6 = SignExtend((Bits(parcel, 12, 1) << 5) | Bits(parcel, 2, 5), 6);

        return Funct3(parcel) switch
        {
            // C.ADDI: addi rd, rd, nzimm. rd = 0 is C.NOP (imm = 0) or a HINT; imm = 0 with rd != 0 is a HINT.
            0b000 => EncodeI(OpcodeOpImm, 0b000, rd, rd, immediate6),
            // C.ADDIW (RV64C; c.jal on RV32): addiw rd, rd, imm; rd = 0 is reserved.
            0b001 => rd == ZeroRegister ? Illegal : EncodeI(OpcodeOpImm32, 0b000, rd, rd, immediate6),
            // C.LI: addi rd, x0, imm; rd = 0 is a HINT.
            0b010 => EncodeI(OpcodeOpImm, 0b000, rd, ZeroRegister, immediate6),
            0b011 => rd == StackPointerRegister ? ExpandAddi16Sp(parcel) : ExpandLui(parcel, rd),
            0b100 => ExpandArithmetic(parcel),
            // C.J: jal x0, offset[11:1].
            0b101 => EncodeJ(ZeroRegister, JumpOffset(parcel)),
            // C.BEQZ: beq rs1', x0, offset[8:1].
            0b110 => EncodeB(0b000, CompressedRegister(parcel, 7), ZeroRegister, BranchOffset(parcel)),
            // C.BNEZ: bne rs1', x0, offset[8:1].
            _ => EncodeB(0b001, CompressedRegister(parcel, 7), ZeroRegister, BranchOffset(parcel)),
        };
    }

    // C.ADDI16SP: addi x2, x2, nzimm[9:4]; nzimm = 0 is reserved.
    private static uint ExpandAddi16Sp(uint parcel)
    {
        var nzimm = (Bits(parcel, 12, 1) << 9) | (Bits(parcel, 6, 1) << 4) | (Bits(parcel, 5, 1) << 6)
            | (Bits(parcel, 3, 2) << 7) | (Bits(parcel, 2, 1) << 5);
        return nzimm == 0
            ? Illegal
            : EncodeI(OpcodeOpImm, 0b000, StackPointerRegister, StackPointerRegister, SignExtend(nzimm, 10));
    }

    // C.LUI: lui rd, nzimm[17:12]; nzimm = 0 is reserved, rd = 0 with nzimm != 0 is a HINT.
    private static uint ExpandLui(uint parcel, uint rd)
    {
        var nzimm = (Bits(parcel, 12, 1) << 5) | Bits(parcel, 2, 5);
        if (nzimm == 0)
        {
            return Illegal;
        }

        var upperImmediate = SignExtend(nzimm, 6) & 0xF_FFFF;
        return (upperImmediate << 12) | (rd << 7) | OpcodeLui;
    }

    // Quadrant 1, funct3 = 100: shifts, c.andi and register-register arithmetic on x8-x15.
    private static uint ExpandArithmetic(uint parcel)
    {
        var rd = CompressedRegister(parcel, 7);
        var shamt = (Bits(parcel, 12, 1) << 5) | Bits(parcel, 2, 5);

        switch (Bits(parcel, 10, 2))
        {
            case 0b00:
                // C.SRLI: srli rd', rd', shamt[5:0]; shamt = 0 is a HINT on RV64C.
                return EncodeI(OpcodeOpImm, 0b101, rd, rd, shamt);
            case 0b01:
                // C.SRAI: srai rd', rd', shamt[5:0]; shamt = 0 is a HINT on RV64C.
                return EncodeI(OpcodeOpImm, 0b101, rd, rd, 0b0100_0000_0000 | shamt);
            case 0b10:
                // C.ANDI: andi rd', rd', imm.
                return EncodeI(OpcodeOpImm, 0b111, rd, rd, SignExtend(shamt, 6));
        }

        var rs2 = CompressedRegister(parcel, 2);
        var isWordOperation = Bits(parcel, 12, 1) == 1;
        return (isWordOperation, Bits(parcel, 5, 2)) switch
        {
            (false, 0b00) => EncodeR(OpcodeOp, 0b010_0000, 0b000, rd, rd, rs2), // C.SUB
            (false, 0b01) => EncodeR(OpcodeOp, 0b000_0000, 0b100, rd, rd, rs2), // C.XOR
            (false, 0b10) => EncodeR(OpcodeOp, 0b000_0000, 0b110, rd, rd, rs2), // C.OR
            (false, 0b11) => EncodeR(OpcodeOp, 0b000_0000, 0b111, rd, rd, rs2), // C.AND
            (true, 0b00) => EncodeR(OpcodeOp32, 0b010_0000, 0b000, rd, rd, rs2), // C.SUBW
            (true, 0b01) => EncodeR(OpcodeOp32, 0b000_0000, 0b000, rd, rd, rs2), // C.ADDW
            _ => Illegal, // funct6 = 100111 with funct2 = 10/11 is reserved (Zcb's c.mul, c.zext.* etc.).
        };
    }

    // Quadrant 2: stack-pointer-based loads/stores, c.slli and the c.jr/c.mv/c.ebreak/c.jalr/c.add group (CI, CR, CSS).
    private static uint ExpandQuadrant2(uint parcel)
    {
        var rd = Bits(parcel, 7, 5);
        var rs2 = Bits(parcel, 2, 5);

        var shamt = (Bits(parcel, 12, 1) << 5) | rs2;

        return Funct3(parcel) switch
        {
            // C.SLLI: slli rd, rd, shamt[5:0]; rd = 0 or shamt = 0 is a HINT on RV64C.
            0b000 => EncodeI(OpcodeOpImm, 0b001, rd, rd, shamt),
            // C.FLDSP: fld rd, uimm[8:3](x2); any f register is a valid destination.
            0b001 => EncodeI(OpcodeLoadFp, 0b011, rd, StackPointerRegister, DoublewordStackLoadOffset(parcel)),
            // C.LWSP: lw rd, uimm[7:2](x2); rd = 0 is reserved.
            0b010 => rd == ZeroRegister
                ? Illegal
                : EncodeI(OpcodeLoad, 0b010, rd, StackPointerRegister, WordStackLoadOffset(parcel)),
            // C.LDSP (RV64C; c.flwsp on RV32): ld rd, uimm[8:3](x2); rd = 0 is reserved.
            0b011 => rd == ZeroRegister
                ? Illegal
                : EncodeI(OpcodeLoad, 0b011, rd, StackPointerRegister, DoublewordStackLoadOffset(parcel)),
            0b100 => ExpandJumpMoveAdd(parcel, rd, rs2),
            // C.FSDSP: fsd rs2, uimm[8:3](x2).
            0b101 => EncodeS(OpcodeStoreFp, 0b011, StackPointerRegister, rs2, DoublewordStackStoreOffset(parcel)),
            // C.SWSP: sw rs2, uimm[7:2](x2).
            0b110 => EncodeS(OpcodeStore, 0b010, StackPointerRegister, rs2, WordStackStoreOffset(parcel)),
            // C.SDSP (RV64C; c.fswsp on RV32): sd rs2, uimm[8:3](x2).
            _ => EncodeS(OpcodeStore, 0b011, StackPointerRegister, rs2, DoublewordStackStoreOffset(parcel)),
        };
    }

    // Quadrant 2, funct3 = 100 (CR format), distinguished by bit 12, rs1/rd and rs2.
    private static uint ExpandJumpMoveAdd(uint parcel, uint rs1OrRd, uint rs2)
    {
        var isAddGroup = Bits(parcel, 12, 1) == 1;
        return (isAddGroup, rs1OrRd == ZeroRegister, rs2 == ZeroRegister) switch
        {
            // C.JR: jalr x0, 0(rs1); rs1 = 0 is reserved.
            (false, true, true) => Illegal,
            (false, false, true) => EncodeI(OpcodeJalr, 0b000, ZeroRegister, rs1OrRd, 0),
            // C.MV: add rd, x0, rs2; rd = 0 is a HINT.
            (false, _, false) => EncodeR(OpcodeOp, 0, 0b000, rs1OrRd, ZeroRegister, rs2),
            // C.EBREAK.
            (true, true, true) => Ebreak,
            // C.JALR: jalr x1, 0(rs1).
            (true, false, true) => EncodeI(OpcodeJalr, 0b000, ReturnAddressRegister, rs1OrRd, 0),
            // C.ADD: add rd, rd, rs2; rd = 0 is a HINT.
            (true, _, false) => EncodeR(OpcodeOp, 0, 0b000, rs1OrRd, rs1OrRd, rs2),
        };
    }

    // CL/CS word offset: uimm[5:3] in bits 12:10, uimm[2] in bit 6, uimm[6] in bit 5.
    private static uint WordOffset(uint parcel) =>
        (Bits(parcel, 10, 3) << 3) | (Bits(parcel, 6, 1) << 2) | (Bits(parcel, 5, 1) << 6);

    // CL/CS doubleword offset: uimm[5:3] in bits 12:10, uimm[7:6] in bits 6:5.
    private static uint DoublewordOffset(uint parcel) =>
        (Bits(parcel, 10, 3) << 3) | (Bits(parcel, 5, 2) << 6);

    // CI word stack load offset: uimm[5] in bit 12, uimm[4:2] in bits 6:4, uimm[7:6] in bits 3:2.
    private static uint WordStackLoadOffset(uint parcel) =>
        (Bits(parcel, 12, 1) << 5) | (Bits(parcel, 4, 3) << 2) | (Bits(parcel, 2, 2) << 6);

    // CSS word stack store offset: uimm[5:2] in bits 12:9, uimm[7:6] in bits 8:7.
    private static uint WordStackStoreOffset(uint parcel) =>
        (Bits(parcel, 9, 4) << 2) | (Bits(parcel, 7, 2) << 6);

    // CI doubleword stack load offset: uimm[5] in bit 12, uimm[4:3] in bits 6:5, uimm[8:6] in bits 4:2.
    private static uint DoublewordStackLoadOffset(uint parcel) =>
        (Bits(parcel, 12, 1) << 5) | (Bits(parcel, 5, 2) << 3) | (Bits(parcel, 2, 3) << 6);

    // CSS doubleword stack store offset: uimm[5:3] in bits 12:10, uimm[8:6] in bits 9:7.
    private static uint DoublewordStackStoreOffset(uint parcel) =>
        (Bits(parcel, 10, 3) << 3) | (Bits(parcel, 7, 3) << 6);

    // CJ offset[11|4|9:8|10|6|7|3:1|5] in bits 12:2, sign-extended from bit 11.
    private static uint JumpOffset(uint parcel)
    {
        var offset = (Bits(parcel, 12, 1) << 11) | (Bits(parcel, 11, 1) << 4) | (Bits(parcel, 9, 2) << 8)
            | (Bits(parcel, 8, 1) << 10) | (Bits(parcel, 7, 1) << 6) | (Bits(parcel, 6, 1) << 7)
            | (Bits(parcel, 3, 3) << 1) | (Bits(parcel, 2, 1) << 5);
        return SignExtend(offset, 12);
    }

    // CB offset[8|4:3] in bits 12:10 and offset[7:6|2:1|5] in bits 6:2, sign-extended from bit 8.
    private static uint BranchOffset(uint parcel)
    {
        var offset = (Bits(parcel, 12, 1) << 8) | (Bits(parcel, 10, 2) << 3) | (Bits(parcel, 5, 2) << 6)
            | (Bits(parcel, 3, 2) << 1) | (Bits(parcel, 2, 1) << 5);
        return SignExtend(offset, 9);
    }

    private static uint Funct3(uint parcel) => Bits(parcel, 13, 3);

    // The 3-bit register fields rd', rs1', rs2' name x8-x15 (spec table "Registers specified by the three-bit rs1', rs2', and rd'").
    private static uint CompressedRegister(uint parcel, int lowBit) => 8 + Bits(parcel, lowBit, 3);

    private static uint Bits(uint value, int lowBit, int width) => (value >> lowBit) & ((1u << width) - 1);

    private static uint SignExtend(uint value, int width)
    {
        var shift = 32 - width;
        return (uint)((int)(value << shift) >> shift);
    }

    // Base instruction formats (unprivileged spec, "Base Instruction Formats" and "Immediate Encoding Variants").
    private static uint EncodeR(uint opcode, uint funct7, uint funct3, uint rd, uint rs1, uint rs2) =>
        (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode;

    private static uint EncodeI(uint opcode, uint funct3, uint rd, uint rs1, uint immediate) =>
        ((immediate & 0xFFF) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode;

    private static uint EncodeS(uint opcode, uint funct3, uint rs1, uint rs2, uint immediate) =>
        (Bits(immediate, 5, 7) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (Bits(immediate, 0, 5) << 7) | opcode;

    private static uint EncodeB(uint funct3, uint rs1, uint rs2, uint offset) =>
        (Bits(offset, 12, 1) << 31) | (Bits(offset, 5, 6) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12)
        | (Bits(offset, 1, 4) << 8) | (Bits(offset, 11, 1) << 7) | OpcodeBranch;

    private static uint EncodeJ(uint rd, uint offset) =>
        (Bits(offset, 20, 1) << 31) | (Bits(offset, 1, 10) << 21) | (Bits(offset, 11, 1) << 20)
        | (Bits(offset, 12, 8) << 12) | (rd << 7) | OpcodeJal;
}
