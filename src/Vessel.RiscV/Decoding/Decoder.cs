namespace Vessel.RiscV.Decoding;

/// <summary>
/// Decodes an RV64GC instruction word into a <see cref="DecodedInstruction"/> (unprivileged spec ch. 34,
/// "RV32/64G Instruction Set Listings"; bit-manipulation spec ch. 3 for Zba/Zbb/Zbc/Zbs). Compressed parcels are
/// expanded first by <see cref="CompressedExpander"/>.
/// </summary>
public static class Decoder
{
    /// <summary>Decodes the instruction whose first bytes are <paramref name="word"/>; a compressed parcel uses the low half.</summary>
    public static DecodedInstruction Decode(uint word)
    {
        if ((word & 3) != 3)
        {
            ushort parcel = (ushort)word;
            uint expanded = CompressedExpander.Expand(parcel);
            var c = expanded == 0 ? default : DecodeFull(expanded);
            c.Raw = parcel;
            c.Length = 2;
            return c;
        }

        var d = DecodeFull(word);
        d.Raw = word;
        d.Length = 4;
        return d;
    }

    private static DecodedInstruction DecodeFull(uint w)
    {
        uint opcode = w & 0x7F;
        int rd = (int)((w >> 7) & 31);
        int rs1 = (int)((w >> 15) & 31);
        int rs2 = (int)((w >> 20) & 31);
        uint funct3 = (w >> 12) & 7;
        uint funct7 = w >> 25;
        int immI = (int)w >> 20;
        int immS = ((int)w >> 25 << 5) | (int)((w >> 7) & 31);
        int immB = ((int)w >> 31 << 12) | (int)((w << 4) & 0x800) | (int)((w >> 20) & 0x7E0) | (int)((w >> 7) & 0x1E);
        int immU = (int)(w & 0xFFFFF000);
        int immJ = ((int)w >> 31 << 20) | (int)(w & 0xFF000) | (int)((w >> 9) & 0x800) | (int)((w >> 20) & 0x7FE);

        switch (opcode)
        {
            case 0x37: return IntOp(Opcode.Lui, rd, 0, 0, immU);
            case 0x17: return IntOp(Opcode.Auipc, rd, 0, 0, immU);
            case 0x6F: return IntOp(Opcode.Jal, rd, 0, 0, immJ);
            case 0x67: return funct3 == 0 ? IntOp(Opcode.Jalr, rd, rs1, 0, immI) : default;
            case 0x63:
                {
                    Opcode op = funct3 switch
                    {
                        0 => Opcode.Beq,
                        1 => Opcode.Bne,
                        4 => Opcode.Blt,
                        5 => Opcode.Bge,
                        6 => Opcode.Bltu,
                        7 => Opcode.Bgeu,
                        _ => Opcode.Illegal,
                    };
                    return op == Opcode.Illegal ? default : Make(op, 0, rs1, rs2, immB);
                }

            case 0x03:
                {
                    Opcode op = funct3 switch
                    {
                        0 => Opcode.Lb,
                        1 => Opcode.Lh,
                        2 => Opcode.Lw,
                        3 => Opcode.Ld,
                        4 => Opcode.Lbu,
                        5 => Opcode.Lhu,
                        6 => Opcode.Lwu,
                        _ => Opcode.Illegal,
                    };
                    return op == Opcode.Illegal ? default : IntOp(op, rd, rs1, 0, immI);
                }

            case 0x23:
                {
                    Opcode op = funct3 switch
                    {
                        0 => Opcode.Sb,
                        1 => Opcode.Sh,
                        2 => Opcode.Sw,
                        3 => Opcode.Sd,
                        _ => Opcode.Illegal,
                    };
                    return op == Opcode.Illegal ? default : Make(op, 0, rs1, rs2, immS);
                }

            case 0x13: return DecodeOpImm(w, rd, rs1, funct3, immI);
            case 0x1B: return DecodeOpImm32(w, rd, rs1, funct3, immI);
            case 0x33: return DecodeOp(rd, rs1, rs2, funct3, funct7);
            case 0x3B: return DecodeOp32(rd, rs1, rs2, funct3, funct7);
            case 0x0F:
                // Unprivileged spec 2.7: unused FENCE fields are reserved for hints and execute as a plain fence.
                return funct3 switch
                {
                    0 => Make(Opcode.Fence, 0, 0, 0, 0),
                    1 => Make(Opcode.FenceI, 0, 0, 0, 0),
                    _ => default,
                };
            case 0x73: return DecodeSystem(w, rd, rs1, rs2, funct3, funct7);
            case 0x2F: return DecodeAtomic(rd, rs1, rs2, funct3, funct7);
            case 0x07:
                return funct3 switch
                {
                    2 => Make(Opcode.Flw, rd, rs1, 0, immI),
                    3 => Make(Opcode.Fld, rd, rs1, 0, immI),
                    _ => default,
                };
            case 0x27:
                return funct3 switch
                {
                    2 => Make(Opcode.Fsw, 0, rs1, rs2, immS),
                    3 => Make(Opcode.Fsd, 0, rs1, rs2, immS),
                    _ => default,
                };
            case 0x43: return DecodeFusedMultiplyAdd(w, Opcode.FmaddS, Opcode.FmaddD);
            case 0x47: return DecodeFusedMultiplyAdd(w, Opcode.FmsubS, Opcode.FmsubD);
            case 0x4B: return DecodeFusedMultiplyAdd(w, Opcode.FnmsubS, Opcode.FnmsubD);
            case 0x4F: return DecodeFusedMultiplyAdd(w, Opcode.FnmaddS, Opcode.FnmaddD);
            case 0x53: return DecodeFloat(rd, rs1, rs2, funct3, funct7);
            default: return default;
        }
    }

    private static DecodedInstruction Make(Opcode op, int rd, int rs1, int rs2, int imm) => new()
    {
        Op = op,
        Rd = (byte)rd,
        Rs1 = (byte)rs1,
        Rs2 = (byte)rs2,
        Imm = imm,
    };

    /// <summary>An instruction with an integer destination: x0 becomes the sink register.</summary>
    private static DecodedInstruction IntOp(Opcode op, int rd, int rs1, int rs2, int imm) =>
        Make(op, rd == 0 ? Hart.SinkRegister : rd, rs1, rs2, imm);

    private static DecodedInstruction DecodeOpImm(uint w, int rd, int rs1, uint funct3, int imm)
    {
        uint funct6 = w >> 26;
        int shamt = (int)((w >> 20) & 63);
        switch (funct3)
        {
            case 0: return IntOp(Opcode.Addi, rd, rs1, 0, imm);
            case 2: return IntOp(Opcode.Slti, rd, rs1, 0, imm);
            case 3: return IntOp(Opcode.Sltiu, rd, rs1, 0, imm);
            case 4: return IntOp(Opcode.Xori, rd, rs1, 0, imm);
            case 6: return IntOp(Opcode.Ori, rd, rs1, 0, imm);
            case 7: return IntOp(Opcode.Andi, rd, rs1, 0, imm);
            case 1:
                switch (funct6)
                {
                    case 0x00: return IntOp(Opcode.Slli, rd, rs1, 0, shamt);
                    case 0x12: return IntOp(Opcode.Bclri, rd, rs1, 0, shamt);
                    case 0x1A: return IntOp(Opcode.Binvi, rd, rs1, 0, shamt);
                    case 0x0A: return IntOp(Opcode.Bseti, rd, rs1, 0, shamt);
                    case 0x18:
                        return ((w >> 20) & 63) switch
                        {
                            0 => IntOp(Opcode.Clz, rd, rs1, 0, 0),
                            1 => IntOp(Opcode.Ctz, rd, rs1, 0, 0),
                            2 => IntOp(Opcode.Cpop, rd, rs1, 0, 0),
                            4 => IntOp(Opcode.SextB, rd, rs1, 0, 0),
                            5 => IntOp(Opcode.SextH, rd, rs1, 0, 0),
                            _ => default,
                        };
                    default: return default;
                }

            case 5:
                switch (funct6)
                {
                    case 0x00: return IntOp(Opcode.Srli, rd, rs1, 0, shamt);
                    case 0x10: return IntOp(Opcode.Srai, rd, rs1, 0, shamt);
                    case 0x18: return IntOp(Opcode.Rori, rd, rs1, 0, shamt);
                    case 0x12: return IntOp(Opcode.Bexti, rd, rs1, 0, shamt);
                    default:
                        // orc.b and rev8 (RV64) are full 12-bit immediates.
                        return (w >> 20) switch
                        {
                            0x287 => IntOp(Opcode.OrcB, rd, rs1, 0, 0),
                            0x6B8 => IntOp(Opcode.Rev8, rd, rs1, 0, 0),
                            _ => default,
                        };
                }

            default: return default;
        }
    }

    private static DecodedInstruction DecodeOpImm32(uint w, int rd, int rs1, uint funct3, int imm)
    {
        uint funct7 = w >> 25;
        int shamt = (int)((w >> 20) & 31);
        switch (funct3)
        {
            case 0: return IntOp(Opcode.Addiw, rd, rs1, 0, imm);
            case 1:
                if (funct7 == 0x00)
                {
                    return IntOp(Opcode.Slliw, rd, rs1, 0, shamt);
                }

                if ((w >> 26) == 0x02)
                {
                    // slli.uw has a 6-bit shift amount.
                    return IntOp(Opcode.SlliUw, rd, rs1, 0, (int)((w >> 20) & 63));
                }

                if (funct7 == 0x30)
                {
                    return shamt switch
                    {
                        0 => IntOp(Opcode.Clzw, rd, rs1, 0, 0),
                        1 => IntOp(Opcode.Ctzw, rd, rs1, 0, 0),
                        2 => IntOp(Opcode.Cpopw, rd, rs1, 0, 0),
                        _ => default,
                    };
                }

                return default;
            case 5:
                return funct7 switch
                {
                    0x00 => IntOp(Opcode.Srliw, rd, rs1, 0, shamt),
                    0x20 => IntOp(Opcode.Sraiw, rd, rs1, 0, shamt),
                    0x30 => IntOp(Opcode.Roriw, rd, rs1, 0, shamt),
                    _ => default,
                };
            default: return default;
        }
    }

    private static DecodedInstruction DecodeOp(int rd, int rs1, int rs2, uint funct3, uint funct7)
    {
        Opcode op = (funct7 << 3 | funct3) switch
        {
            0x000 => Opcode.Add,
            0x100 => Opcode.Sub,
            0x001 => Opcode.Sll,
            0x002 => Opcode.Slt,
            0x003 => Opcode.Sltu,
            0x004 => Opcode.Xor,
            0x005 => Opcode.Srl,
            0x105 => Opcode.Sra,
            0x006 => Opcode.Or,
            0x007 => Opcode.And,
            0x008 => Opcode.Mul,
            0x009 => Opcode.Mulh,
            0x00A => Opcode.Mulhsu,
            0x00B => Opcode.Mulhu,
            0x00C => Opcode.Div,
            0x00D => Opcode.Divu,
            0x00E => Opcode.Rem,
            0x00F => Opcode.Remu,
            (0x10 << 3) | 2 => Opcode.Sh1Add,
            (0x10 << 3) | 4 => Opcode.Sh2Add,
            (0x10 << 3) | 6 => Opcode.Sh3Add,
            (0x20 << 3) | 7 => Opcode.Andn,
            (0x20 << 3) | 6 => Opcode.Orn,
            (0x20 << 3) | 4 => Opcode.Xnor,
            (0x05 << 3) | 6 => Opcode.Max,
            (0x05 << 3) | 7 => Opcode.Maxu,
            (0x05 << 3) | 4 => Opcode.Min,
            (0x05 << 3) | 5 => Opcode.Minu,
            (0x05 << 3) | 1 => Opcode.Clmul,
            (0x05 << 3) | 3 => Opcode.Clmulh,
            (0x05 << 3) | 2 => Opcode.Clmulr,
            (0x30 << 3) | 1 => Opcode.Rol,
            (0x30 << 3) | 5 => Opcode.Ror,
            (0x24 << 3) | 1 => Opcode.Bclr,
            (0x24 << 3) | 5 => Opcode.Bext,
            (0x34 << 3) | 1 => Opcode.Binv,
            (0x14 << 3) | 1 => Opcode.Bset,
            _ => Opcode.Illegal,
        };
        return op == Opcode.Illegal ? default : IntOp(op, rd, rs1, rs2, 0);
    }

    private static DecodedInstruction DecodeOp32(int rd, int rs1, int rs2, uint funct3, uint funct7)
    {
        Opcode op = (funct7 << 3 | funct3) switch
        {
            0x000 => Opcode.Addw,
            0x100 => Opcode.Subw,
            0x001 => Opcode.Sllw,
            0x005 => Opcode.Srlw,
            0x105 => Opcode.Sraw,
            0x008 => Opcode.Mulw,
            0x00C => Opcode.Divw,
            0x00D => Opcode.Divuw,
            0x00E => Opcode.Remw,
            0x00F => Opcode.Remuw,
            (0x04 << 3) | 0 => Opcode.AddUw,
            (0x10 << 3) | 2 => Opcode.Sh1AddUw,
            (0x10 << 3) | 4 => Opcode.Sh2AddUw,
            (0x10 << 3) | 6 => Opcode.Sh3AddUw,
            (0x30 << 3) | 1 => Opcode.Rolw,
            (0x30 << 3) | 5 => Opcode.Rorw,
            (0x04 << 3) | 4 when rs2 == 0 => Opcode.ZextH,
            _ => Opcode.Illegal,
        };
        return op == Opcode.Illegal ? default : IntOp(op, rd, rs1, rs2, 0);
    }

    private static DecodedInstruction DecodeSystem(uint w, int rd, int rs1, int rs2, uint funct3, uint funct7)
    {
        int csr = (int)(w >> 20);
        switch (funct3)
        {
            case 0:
                if (funct7 == 0x09 && rd == 0)
                {
                    return Make(Opcode.SfenceVma, 0, rs1, rs2, 0);
                }

                if (rd != 0 || rs1 != 0)
                {
                    return default;
                }

                return csr switch
                {
                    0x000 => Make(Opcode.Ecall, 0, 0, 0, 0),
                    0x001 => Make(Opcode.Ebreak, 0, 0, 0, 0),
                    0x102 => Make(Opcode.Sret, 0, 0, 0, 0),
                    0x302 => Make(Opcode.Mret, 0, 0, 0, 0),
                    0x105 => Make(Opcode.Wfi, 0, 0, 0, 0),
                    _ => default,
                };
            case 1: return IntOp(Opcode.Csrrw, rd, rs1, 0, csr);
            case 2: return IntOp(Opcode.Csrrs, rd, rs1, 0, csr);
            case 3: return IntOp(Opcode.Csrrc, rd, rs1, 0, csr);
            case 5: return IntOp(Opcode.Csrrwi, rd, rs1, 0, csr);
            case 6: return IntOp(Opcode.Csrrsi, rd, rs1, 0, csr);
            case 7: return IntOp(Opcode.Csrrci, rd, rs1, 0, csr);
            default: return default;
        }
    }

    private static DecodedInstruction DecodeAtomic(int rd, int rs1, int rs2, uint funct3, uint funct7)
    {
        // The aq/rl bits (funct7[1:0]) need no decoding: every AMO here is sequentially consistent.
        uint funct5 = funct7 >> 2;
        bool doubleword;
        if (funct3 == 2)
        {
            doubleword = false;
        }
        else if (funct3 == 3)
        {
            doubleword = true;
        }
        else
        {
            return default;
        }

        Opcode op = funct5 switch
        {
            0x02 when rs2 == 0 => doubleword ? Opcode.LrD : Opcode.LrW,
            0x03 => doubleword ? Opcode.ScD : Opcode.ScW,
            0x01 => doubleword ? Opcode.AmoSwapD : Opcode.AmoSwapW,
            0x00 => doubleword ? Opcode.AmoAddD : Opcode.AmoAddW,
            0x04 => doubleword ? Opcode.AmoXorD : Opcode.AmoXorW,
            0x0C => doubleword ? Opcode.AmoAndD : Opcode.AmoAndW,
            0x08 => doubleword ? Opcode.AmoOrD : Opcode.AmoOrW,
            0x10 => doubleword ? Opcode.AmoMinD : Opcode.AmoMinW,
            0x14 => doubleword ? Opcode.AmoMaxD : Opcode.AmoMaxW,
            0x18 => doubleword ? Opcode.AmoMinuD : Opcode.AmoMinuW,
            0x1C => doubleword ? Opcode.AmoMaxuD : Opcode.AmoMaxuW,
            _ => Opcode.Illegal,
        };
        return op == Opcode.Illegal ? default : IntOp(op, rd, rs1, rs2, 0);
    }

    private static DecodedInstruction DecodeFusedMultiplyAdd(uint w, Opcode single, Opcode dbl)
    {
        uint fmt = (w >> 25) & 3;
        if (fmt > 1 || !ValidRoundingMode((w >> 12) & 7))
        {
            return default;
        }

        var d = Make(fmt == 0 ? single : dbl, (int)((w >> 7) & 31), (int)((w >> 15) & 31), (int)((w >> 20) & 31), 0);
        d.Rs3 = (byte)(w >> 27);
        d.Rm = (byte)((w >> 12) & 7);
        return d;
    }

    /// <summary>Rounding modes 5 and 6 are reserved; 7 (dynamic) is checked against frm at execution.</summary>
    private static bool ValidRoundingMode(uint rm) => rm != 5 && rm != 6;

    private static DecodedInstruction DecodeFloat(int rd, int rs1, int rs2, uint rm, uint funct7)
    {
        bool isDouble = (funct7 & 1) != 0;
        if ((funct7 & 2) != 0)
        {
            return default; // fmt 2 (H) and 3 (Q) are not implemented
        }

        Opcode op;
        bool intDest = false;
        bool usesRm = false;
        switch (funct7 >> 2)
        {
            case 0x00: op = isDouble ? Opcode.FaddD : Opcode.FaddS; usesRm = true; break;
            case 0x01: op = isDouble ? Opcode.FsubD : Opcode.FsubS; usesRm = true; break;
            case 0x02: op = isDouble ? Opcode.FmulD : Opcode.FmulS; usesRm = true; break;
            case 0x03: op = isDouble ? Opcode.FdivD : Opcode.FdivS; usesRm = true; break;
            case 0x0B:
                if (rs2 != 0)
                {
                    return default;
                }

                op = isDouble ? Opcode.FsqrtD : Opcode.FsqrtS;
                usesRm = true;
                break;
            case 0x04:
                op = rm switch
                {
                    0 => isDouble ? Opcode.FsgnjD : Opcode.FsgnjS,
                    1 => isDouble ? Opcode.FsgnjnD : Opcode.FsgnjnS,
                    2 => isDouble ? Opcode.FsgnjxD : Opcode.FsgnjxS,
                    _ => Opcode.Illegal,
                };
                break;
            case 0x05:
                op = rm switch
                {
                    0 => isDouble ? Opcode.FminD : Opcode.FminS,
                    1 => isDouble ? Opcode.FmaxD : Opcode.FmaxS,
                    _ => Opcode.Illegal,
                };
                break;
            case 0x08:
                // fcvt.s.d (funct7 0x20, rs2 1) and fcvt.d.s (funct7 0x21, rs2 0)
                op = (isDouble, rs2) switch
                {
                    (false, 1) => Opcode.FcvtSD,
                    (true, 0) => Opcode.FcvtDS,
                    _ => Opcode.Illegal,
                };
                usesRm = true;
                break;
            case 0x14:
                intDest = true;
                op = rm switch
                {
                    0 => isDouble ? Opcode.FleD : Opcode.FleS,
                    1 => isDouble ? Opcode.FltD : Opcode.FltS,
                    2 => isDouble ? Opcode.FeqD : Opcode.FeqS,
                    _ => Opcode.Illegal,
                };
                break;
            case 0x18:
                intDest = true;
                usesRm = true;
                op = rs2 switch
                {
                    0 => isDouble ? Opcode.FcvtWD : Opcode.FcvtWS,
                    1 => isDouble ? Opcode.FcvtWuD : Opcode.FcvtWuS,
                    2 => isDouble ? Opcode.FcvtLD : Opcode.FcvtLS,
                    3 => isDouble ? Opcode.FcvtLuD : Opcode.FcvtLuS,
                    _ => Opcode.Illegal,
                };
                break;
            case 0x1A:
                usesRm = true;
                op = rs2 switch
                {
                    0 => isDouble ? Opcode.FcvtDW : Opcode.FcvtSW,
                    1 => isDouble ? Opcode.FcvtDWu : Opcode.FcvtSWu,
                    2 => isDouble ? Opcode.FcvtDL : Opcode.FcvtSL,
                    3 => isDouble ? Opcode.FcvtDLu : Opcode.FcvtSLu,
                    _ => Opcode.Illegal,
                };
                break;
            case 0x1C:
                intDest = true;
                op = (rs2, rm) switch
                {
                    (0, 0) => isDouble ? Opcode.FmvXD : Opcode.FmvXW,
                    (0, 1) => isDouble ? Opcode.FclassD : Opcode.FclassS,
                    _ => Opcode.Illegal,
                };
                break;
            case 0x1E:
                op = (rs2, rm) switch
                {
                    (0, 0) => isDouble ? Opcode.FmvDX : Opcode.FmvWX,
                    _ => Opcode.Illegal,
                };
                break;
            default:
                return default;
        }

        if (op == Opcode.Illegal || (usesRm && !ValidRoundingMode(rm)))
        {
            return default;
        }

        var d = intDest ? IntOp(op, rd, rs1, rs2, 0) : Make(op, rd, rs1, rs2, 0);
        d.Rm = (byte)rm;
        return d;
    }
}
