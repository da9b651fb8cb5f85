using Vessel.RiscV.Decoding;
using static Vessel.RiscV.Tests.InstructionEncoder;

namespace Vessel.RiscV.Tests.Jit;

/// <summary>
/// A random guest program for the JIT differential test: integer ALU (RV64IM, Zba, Zbb, Zbs), compressed forms,
/// loads and stores (aligned, misaligned, page-crossing, faulting), forward branches and jumps, F/D instructions (with FS and frm changes),
/// atomics, CSR reads of instret, and trapping instructions. A loop around the body runs it <see cref="Iterations"/>
/// times so blocks get hot; then the program spins on a jump to itself.
/// </summary>
internal sealed class RandomProgram
{
    public const ulong CodeBase = TestMachine.RamBase;
    public const ulong HandlerBase = TestMachine.RamBase + 0x8000;
    public const ulong DataBase = TestMachine.RamBase + 0x10000;
    public const int DataSize = 0x3000;
    public const int Iterations = 4;

    // Registers the body never writes: data pointers, a faulting pointer, the loop counter, the handler's scratch.
    public const int DataPointer = 5;
    public const int PageEndPointer = 6;
    public const int FaultPointer = 7;
    public const int LoopCounter = 28;
    public const int InnerLoopCounter = 29;
    public const int HandlerScratch = 31;

    private static readonly int[] ReadCsrs = [0xB02, 0xB00, 0x001, 0x003, 0x300, 0x341, 0xFFF];

    private static readonly int[] Writable = [1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 30];

    private static readonly (uint Funct3, uint Funct7)[] RegisterOps =
    [
        (0, 0), (0, 0x20), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (5, 0x20), (6, 0), (7, 0),
        (0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1),
        (2, 0x10), (4, 0x10), (6, 0x10),
        (7, 0x20), (6, 0x20), (4, 0x20), (6, 0x05), (7, 0x05), (4, 0x05), (5, 0x05), (1, 0x30), (5, 0x30),
        (1, 0x24), (5, 0x24), (1, 0x34), (1, 0x14),
        (1, 0x05), // clmul: left to the interpreter inside a block
    ];

    private static readonly (uint Funct3, uint Funct7)[] WordRegisterOps =
    [
        (0, 0), (0, 0x20), (1, 0), (5, 0), (5, 0x20), (0, 1), (4, 1), (5, 1), (6, 1), (7, 1),
        (0, 0x04), (2, 0x10), (4, 0x10), (6, 0x10), (1, 0x30), (5, 0x30),
    ];

    private readonly Random _random;
    private readonly List<Item> _items = [];

    public RandomProgram(int seed, int length)
    {
        _random = new Random(seed);
        for (int i = 0; i < length; i++)
        {
            AddRandomItem(length);
        }
    }

    /// <summary>Initial values for x1..x31 (index 0 unused).</summary>
    public ulong[] InitialRegisters { get; private set; } = [];

    public byte[] InitialData { get; private set; } = [];

    /// <summary>Lays the program out and writes it, the trap handler and the data into <paramref name="memory"/>.</summary>
    public void Load(Vessel.Machine.Abstractions.GuestMemory memory)
    {
        var code = new List<byte>();
        var offsets = new int[_items.Count + 1];
        for (int i = 0; i < _items.Count; i++)
        {
            offsets[i] = code.Count;
            code.AddRange(new byte[_items[i].Length]);
        }

        offsets[_items.Count] = code.Count;
        for (int i = 0; i < _items.Count; i++)
        {
            ulong word = _items[i].Encode(offsets[i], offsets, LandingPlace);
            for (int b = 0; b < _items[i].Length; b++)
            {
                code[offsets[i] + b] = (byte)(word >> (8 * b));
            }
        }

        // Loop back to the start while the counter lasts, then spin.
        int loopAt = code.Count;
        AppendWord(code, Addi(LoopCounter, LoopCounter, -1));
        AppendWord(code, B(1, LoopCounter, 0, -(loopAt + 4)));
        AppendWord(code, 0x0000006F); // jal x0, 0
        memory.Write(CodeBase, code.ToArray());
        EndPc = CodeBase + (ulong)loopAt + 8;

        // Trap handler: skip the (always 4-byte) trapping instruction.
        var handler = new List<byte>();
        AppendWord(handler, Csrrs(HandlerScratch, 0x341, 0));
        AppendWord(handler, Addi(HandlerScratch, HandlerScratch, 4));
        AppendWord(handler, Csrrw(0, 0x341, HandlerScratch));
        AppendWord(handler, Mret);
        memory.Write(HandlerBase, handler.ToArray());

        var data = new byte[DataSize];
        _random.NextBytes(data);
        InitialData = data;
        memory.Write(DataBase, data);

        var registers = new ulong[32];
        for (int r = 1; r < 32; r++)
        {
            registers[r] = InterestingValue();
        }

        registers[DataPointer] = DataBase;
        registers[PageEndPointer] = DataBase + 0x1000 - 4;
        registers[FaultPointer] = 0x1000; // no RAM, no device: access faults
        registers[LoopCounter] = Iterations;
        InitialRegisters = registers;
    }

    /// <summary>A forward branch aimed inside a loop body lands after the loop instead, so no loop runs without its counter set.</summary>
    private int LandingPlace(int target)
    {
        while (target < _items.Count && _items[target].InsideLoop)
        {
            target++;
        }

        return target;
    }

    /// <summary>The pc of the final jump-to-self.</summary>
    public ulong EndPc { get; private set; }

    private static void AppendWord(List<byte> code, uint word)
    {
        for (int b = 0; b < 4; b++)
        {
            code.Add((byte)(word >> (8 * b)));
        }
    }

    private ulong InterestingValue() => _random.Next(8) switch
    {
        0 => 0,
        1 => ulong.MaxValue,
        2 => 1UL << 63,
        3 => 0x8000_0000,
        4 => (ulong)_random.Next(-64, 64),
        5 => 0xFFFF_FFFF,
        _ => (ulong)_random.NextInt64() ^ ((ulong)_random.Next() << 33),
    };

    private int Rd() => _random.Next(10) == 0 ? 0 : Writable[_random.Next(Writable.Length)];

    private int Rs() => _random.Next(32);

    private void Add(uint word)
    {
        Assert.NotEqual(Opcode.Illegal, Decoder.Decode(word).Op);
        _items.Add(new Item(word));
    }

    private void AddRandomItem(int length)
    {
        int kind = _random.Next(100);
        if (kind < 22)
        {
            var (f3, f7) = RegisterOps[_random.Next(RegisterOps.Length)];
            Add(Op(Rd(), Rs(), Rs(), f3, f7));
        }
        else if (kind < 30)
        {
            var (f3, f7) = WordRegisterOps[_random.Next(WordRegisterOps.Length)];
            Add(Op32(Rd(), Rs(), Rs(), f3, f7));
        }
        else if (kind < 42)
        {
            AddImmediateOp();
        }
        else if (kind < 50)
        {
            AddCompressed();
        }
        else if (kind < 66)
        {
            AddMemoryAccess();
        }
        else if (kind < 74)
        {
            // Forward branch or jump to a later item (or the loop tail).
            int target = _items.Count + 1 + _random.Next(Math.Max(1, Math.Min(12, length - _items.Count)));
            int which = _random.Next(8);
            _items.Add(which < 6
                ? new Item(0, 4, target, (offset, to) => B(BranchFunct3(which), Rs(), Rs(), to - offset))
                : new Item(0, 4, target, (offset, to) => 0x6F | ((uint)Rd() << 7) | JumpImmediate(to - offset)));
        }
        else if (kind < 76)
        {
            // auipc + jalr over the next instruction, as one item so no branch lands between them.
            int rd = Writable[_random.Next(Writable.Length)];
            uint auipc = U(0x17, rd, 0), jalr = I(0x67, Rd(), 0, rd, 12);
            Assert.Equal(Opcode.Jalr, Decoder.Decode(jalr).Op);
            _items.Add(new Item(auipc | ((ulong)jalr << 32), 8));
            Add(Addi(Rd(), Rs(), 1));
        }
        else if (kind < 80)
        {
            Add(U(_random.Next(2) == 0 ? 0x37u : 0x17u, Rd(), _random.Next()));
        }
        else if (kind < 86)
        {
            AddFloatOrAtomic();
        }
        else if (kind < 90)
        {
            // CSR reads, which compiled blocks run inside the block: minstret / mcycle (instret synced first), fflags /
            // fcsr (accrued by translated F/D), mstatus, mepc, and 0xFFF, which does not exist and traps. The four
            // read-only forms: csrrs/csrrc with x0, csrrsi/csrrci with uimm 0.
            int csr = ReadCsrs[_random.Next(ReadCsrs.Length)];
            Add(I(0x73, Rd(), _random.Next(4) switch { 0 => 2u, 1 => 3u, 2 => 6u, _ => 7u }, 0, csr));
        }
        else if (kind < 93)
        {
            _items.Add(new Item(_random.Next(3) switch { 0 => Ecall, 1 => Ebreak, _ => 0xFFFF_FFFFu }));
        }
        else if (kind < 94)
        {
            AddInnerLoop();
        }
        else if (kind < 96)
        {
            Add(_random.Next(2) == 0 ? 0x0FF0000Fu : 0x0000100Fu); // fence rw,rw / fence.i
        }
        else
        {
            Add(Addi(Rd(), Rs(), _random.Next(-2048, 2048)));
        }
    }

    /// <summary>A counted loop of a few straight-line instructions: the JIT runs it inside one compiled block.</summary>
    private void AddInnerLoop()
    {
        Add(Addi(InnerLoopCounter, 0, _random.Next(1, 40)));
        int start = _items.Count;
        int body = _random.Next(1, 8);
        for (int i = 0; i < body; i++)
        {
            int kind = _random.Next(10);
            if (kind < 4)
            {
                var (f3, f7) = RegisterOps[_random.Next(RegisterOps.Length)];
                Add(Op(Rd(), Rs(), Rs(), f3, f7));
            }
            else if (kind < 6)
            {
                AddImmediateOp();
            }
            else if (kind < 7)
            {
                AddCompressed();
            }
            else if (kind < 9)
            {
                AddMemoryAccess();
            }
            else
            {
                AddFloatOrAtomic();
            }
        }

        Add(Addi(InnerLoopCounter, InnerLoopCounter, -1));
        for (int i = start; i < _items.Count; i++)
        {
            _items[i].InsideLoop = true;
        }

        _items.Add(new Item(0, 4, start, (offset, to) => B(1, InnerLoopCounter, 0, to - offset)) { InsideLoop = true });
    }

    private static uint BranchFunct3(int which) => which switch { 0 => 0, 1 => 1, 2 => 4, 3 => 5, 4 => 6, _ => 7 };

    private static uint JumpImmediate(int imm) =>
        ((((uint)imm >> 20) & 1) << 31) | ((((uint)imm >> 1) & 0x3FF) << 21) | ((((uint)imm >> 11) & 1) << 20) | ((uint)imm & 0xFF000);

    private void AddImmediateOp()
    {
        int rd = Rd(), rs = Rs(), imm = _random.Next(-2048, 2048), sh = _random.Next(64), sh5 = _random.Next(32);
        Add(_random.Next(22) switch
        {
            0 => I(0x13, rd, 0, rs, imm),
            1 => I(0x13, rd, 2, rs, imm),
            2 => I(0x13, rd, 3, rs, imm),
            3 => I(0x13, rd, 4, rs, imm),
            4 => I(0x13, rd, 6, rs, imm),
            5 => I(0x13, rd, 7, rs, imm),
            6 => I(0x13, rd, 1, rs, sh),
            7 => I(0x13, rd, 5, rs, sh),
            8 => I(0x13, rd, 5, rs, 0x400 | sh),
            9 => I(0x13, rd, 1, rs, 0x600 | _random.Next(3)),         // clz, ctz, cpop
            10 => I(0x13, rd, 1, rs, 0x604 | _random.Next(2)),       // sext.b, sext.h
            11 => I(0x13, rd, 5, rs, _random.Next(2) == 0 ? 0x6B8 : 0x287), // rev8, orc.b
            12 => I(0x13, rd, 5, rs, 0x600 | sh),                     // rori
            13 => I(0x13, rd, 1, rs, 0x480 | sh),                     // bclri
            14 => I(0x13, rd, 5, rs, 0x480 | sh),                     // bexti
            15 => I(0x13, rd, 1, rs, (_random.Next(2) == 0 ? 0x680 : 0x280) | sh), // binvi, bseti
            16 => I(0x1B, rd, 0, rs, imm),                            // addiw
            17 => I(0x1B, rd, 1, rs, sh5),                            // slliw
            18 => I(0x1B, rd, 5, rs, _random.Next(2) == 0 ? sh5 : 0x400 | sh5), // srliw, sraiw
            19 => I(0x1B, rd, 1, rs, 0x080 | sh),                     // slli.uw
            20 => I(0x1B, rd, 1, rs, 0x600 | _random.Next(3)),        // clzw, ctzw, cpopw
            _ => _random.Next(2) == 0 ? I(0x1B, rd, 5, rs, 0x600 | sh5) : Op32(rd, rs, 0, 4, 0x04), // roriw, zext.h
        });
    }

    private void AddCompressed()
    {
        int rd = Writable[_random.Next(Writable.Length)];
        int rs = Math.Max(1, Rs());
        int imm = _random.Next(-32, 32);
        int small = 8 + _random.Next(8); // x8..x15, all writable
        uint parcel = _random.Next(6) switch
        {
            0 => 0x0001u | (((uint)(imm == 0 ? 1 : imm) & 31) << 2) | ((uint)rd << 7) | ((((uint)(imm == 0 ? 1 : imm)) >> 5 & 1) << 12), // c.addi
            1 => 0x4001u | (((uint)imm & 31) << 2) | ((uint)rd << 7) | (((uint)imm >> 5 & 1) << 12),     // c.li
            2 => 0x8002u | ((uint)rd << 7) | ((uint)rs << 2),                                             // c.mv
            3 => 0x9002u | ((uint)rd << 7) | ((uint)rs << 2),                                             // c.add
            4 => 0x0002u | ((uint)rd << 7) | (((uint)_random.Next(1, 32)) << 2),                         // c.slli
            _ => 0x8C01u | ((uint)(small - 8) << 7) | ((uint)_random.Next(4) << 5) | ((uint)_random.Next(8) << 2), // c.sub/xor/or/and
        };
        Assert.NotEqual(Opcode.Illegal, Decoder.Decode(parcel).Op);
        _items.Add(new Item(parcel, 2));
    }

    private void AddMemoryAccess()
    {
        var (baseRegister, offset) = MemoryOperand();
        if (_random.Next(2) == 0)
        {
            Add(I(0x03, Rd(), (uint)_random.Next(7), baseRegister, offset)); // lb lh lw ld lbu lhu lwu
        }
        else
        {
            Add(S(0x23, (uint)_random.Next(4), baseRegister, Rs(), offset)); // sb sh sw sd
        }
    }

    /// <summary>A data address: aligned or not, near the end of a page (crossing it), or faulting.</summary>
    private (int BaseRegister, int Offset) MemoryOperand() => _random.Next(10) switch
    {
        < 6 => (DataPointer, _random.Next(0, 0x2000 - 8) & (_random.Next(3) == 0 ? ~0 : ~7)),
        < 9 => (PageEndPointer, _random.Next(-8, 9)),
        _ => (FaultPointer, _random.Next(0, 16)),
    };

    private void AddFloatOrAtomic()
    {
        if (_random.Next(3) == 0)
        {
            AddAtomic();
        }
        else
        {
            AddFloat();
        }
    }

    private void AddAtomic() => Add(_random.Next(5) switch
    {
        0 => R(0x2F, Rd(), 3, DataPointer, Rs(), 0x00),  // amoadd.d
        1 => R(0x2F, Rd(), 2, DataPointer, Rs(), 0x04),  // amoswap.w
        2 => R(0x2F, Rd(), 3, DataPointer, 0, 0x08),     // lr.d
        3 => R(0x2F, Rd(), 3, DataPointer, Rs(), 0x0C),  // sc.d
        _ => R(0x2F, Rd(), 3, PageEndPointer, Rs(), 0x00), // amoadd.d misaligned: traps
    });

    /// <summary>
    /// An F or D instruction: arithmetic in every rounding mode (dynamic ones with any frm, including the invalid
    /// 5–7), NaN-boxed and unboxed singles (fmv.w.x / fmv.d.x of random bits), loads and stores that hit, cross the
    /// page or fault, frm writes, and mstatus.FS changes (Off makes every F/D instruction trap).
    /// </summary>
    private void AddFloat()
    {
        int f1 = _random.Next(32), f2 = _random.Next(32), f3 = _random.Next(32), fd = _random.Next(32);
        uint dbl = (uint)_random.Next(2);
        uint rm = (uint)(_random.Next(3) == 0 ? 7 : _random.Next(5));
        switch (_random.Next(21))
        {
            case 0: Add(R(0x53, fd, 0, Rs(), 0, 0x78 | dbl)); break;                   // fmv.w.x / fmv.d.x
            case 1: Add(R(0x53, Rd(), (uint)_random.Next(2), f1, 0, 0x70 | dbl)); break; // fmv.x.* / fclass.*
            case 2: Add(R(0x53, Rd(), (uint)_random.Next(3), f1, f2, 0x50 | dbl)); break; // fle fle feq
            case 3: Add(R(0x53, fd, (uint)_random.Next(3), f1, f2, 0x10 | dbl)); break; // fsgnj[n|x]
            case 4: Add(R(0x53, fd, (uint)_random.Next(2), f1, f2, 0x14 | dbl)); break; // fmin / fmax
            case 5:
            case 6:
            case 7:
            case 8:
                Add(R(0x53, fd, rm, f1, f2, ((uint)_random.Next(4) << 2) | dbl)); // fadd fsub fmul fdiv
                break;
            case 9: Add(R(0x53, fd, rm, f1, 0, 0x2C | dbl)); break;                    // fsqrt
            case 10:
            case 11:
                Add((0x43u + ((uint)_random.Next(4) << 2)) | ((uint)fd << 7) | (rm << 12) | ((uint)f1 << 15) | ((uint)f2 << 20) | (dbl << 25) | ((uint)f3 << 27));
                break;
            case 12: Add(R(0x53, fd, rm, f1, (int)(1 - dbl), 0x20 | dbl)); break;     // fcvt.s.d / fcvt.d.s
            case 13: Add(R(0x53, Rd(), rm, f1, _random.Next(4), 0x60 | dbl)); break;   // fcvt.{w,wu,l,lu}.*
            case 14: Add(R(0x53, fd, rm, Rs(), _random.Next(4), 0x68 | dbl)); break;   // fcvt.*.{w,wu,l,lu}
            case 15:
            case 16:
                {
                    var (baseRegister, offset) = MemoryOperand();
                    Add(_random.Next(2) == 0
                        ? I(0x07, fd, 2 + dbl, baseRegister, offset)   // flw / fld
                        : S(0x27, 2 + dbl, baseRegister, f2, offset)); // fsw / fsd
                    break;
                }

            case 17: Add(I(0x73, 0, 5, _random.Next(8), 0x002)); break; // csrrwi x0, frm, 0..7
            case 18:
            case 19:
                {
                    // mstatus.FS := Off, Initial, Clean or Dirty (privileged spec 3.1.6.6): clear it, then set the new value.
                    int rd = Writable[_random.Next(Writable.Length)];
                    int fs = _random.Next(4);
                    _items.Add(new Item(Lui(rd, 0x6000) | ((ulong)I(0x73, 0, 3, rd, 0x300) << 32), 8));
                    _items.Add(new Item(Lui(rd, fs << 13) | ((ulong)I(0x73, 0, 2, rd, 0x300) << 32), 8));
                    break;
                }

            default:
                _items.Add(new Item(R(0x53, fd, 5 + (uint)_random.Next(2), f1, f2, dbl))); // fadd with the reserved rm 5 or 6: illegal
                break;
        }
    }

    /// <summary>One instruction, or a branch whose offset is fixed once the layout is known.</summary>
    private sealed class Item(ulong word, int length = 4, int target = -1, Func<int, int, uint>? encode = null)
    {
        private ulong? _encoded;

        public int Length { get; } = length;

        public bool InsideLoop { get; set; }

        public ulong Encode(int offset, int[] offsets, Func<int, int> landing) =>
            _encoded ??= encode is null
                ? word
                : encode(offset, offsets[target < 0 ? 0 : Math.Min(InsideLoop ? target : landing(target), offsets.Length - 1)]);
    }
}
