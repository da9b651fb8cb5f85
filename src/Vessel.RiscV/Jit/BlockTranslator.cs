using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using Vessel.RiscV.Decoding;
using Vessel.RiscV.Fpu;

namespace Vessel.RiscV.Jit;

/// <summary>
/// Translates one guest block into a <see cref="DynamicMethod"/> (DESIGN.md §4, issue 9). A block starts at a pc,
/// stays inside its 4 KiB page, and ends after a jump, before a SYSTEM instruction, FENCE.I or an undecodable word,
/// or after <see cref="MaxInstructions"/>. Conditional branches do not end it: a taken branch to the block's start
/// loops inside the compiled code (while the caller's instruction budget lasts), one to a later instruction of the
/// block jumps there, and any other leaves the block. Guest registers the block touches live in IL locals
/// and are written back at every exit. Loads and stores inline the TLB hit path and call the interpreter's slow
/// path (with pc set to the instruction) on a miss, so a fault leaves the state exactly as the interpreter would.
/// F/D call the interpreter's FloatInstructions functions (and trap through the interpreter when FS is Off or frm is
/// invalid); atomics and carry-less multiplies run in the interpreter one instruction at a time from inside the block.
/// The block first compares the guest code bytes with the ones it was translated from, so modified code (by any
/// hart or DMA) is never run stale.
/// </summary>
internal static unsafe class BlockTranslator
{
    public const int MaxInstructions = 64;

    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
    private const BindingFlags Static = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;

    private static readonly FieldInfo PcField = typeof(Hart).GetField(nameof(Hart.Pc), Instance)!;
    private static readonly FieldInfo InstretField = typeof(Hart).GetField(Hart.JitInstretFieldName, Instance)
        ?? throw new InvalidOperationException("Hart has no instret field");
    private static readonly FieldInfo LoadTlbField = typeof(Hart).GetField(Hart.JitLoadTlbFieldName, Instance)
        ?? throw new InvalidOperationException("Hart has no load TLB field");
    private static readonly FieldInfo StoreTlbField = typeof(Hart).GetField(Hart.JitStoreTlbFieldName, Instance)
        ?? throw new InvalidOperationException("Hart has no store TLB field");
    private static readonly MethodInfo LoadSlowMethod = typeof(Hart).GetMethod(Hart.JitLoadSlowName, Instance)
        ?? throw new InvalidOperationException("Hart has no load slow path");
    private static readonly MethodInfo StoreSlowMethod = typeof(Hart).GetMethod(Hart.JitStoreSlowName, Instance)
        ?? throw new InvalidOperationException("Hart has no store slow path");
    private static readonly FieldInfo MstatusField = typeof(Hart).GetField(Hart.JitMstatusFieldName, Instance)
        ?? throw new InvalidOperationException("Hart has no mstatus field");
    private static readonly FieldInfo FflagsField = typeof(Hart).GetField(Hart.JitFflagsFieldName, Instance)
        ?? throw new InvalidOperationException("Hart has no fflags field");
    private static readonly FieldInfo FrmField = typeof(Hart).GetField(Hart.JitFrmFieldName, Instance)
        ?? throw new InvalidOperationException("Hart has no frm field");
    private static readonly FieldInfo FloatRegistersField = typeof(Hart).GetField(Hart.JitFloatRegistersFieldName, Instance)
        ?? throw new InvalidOperationException("Hart has no float register file");
    private static readonly MethodInfo FloatResultMethod = typeof(FloatInstructions).GetMethod(nameof(FloatInstructions.FloatResult), Static)!;
    private static readonly MethodInfo IntegerResultMethod = typeof(FloatInstructions).GetMethod(nameof(FloatInstructions.IntegerResult), Static)!;
    private static readonly MethodInfo FromIntegerMethod = typeof(FloatInstructions).GetMethod(nameof(FloatInstructions.FromInteger), Static)!;
    private static readonly MethodInfo InterpretOneMethod = typeof(Hart).GetMethod(nameof(Hart.InterpretOneForJit), Instance)!;
    private static readonly MethodInfo ChainTargetMethod = typeof(Hart).GetMethod(nameof(Hart.ChainTarget), Instance)!;
    private static readonly MethodInfo BlockFunctionGetter = typeof(CompiledBlock).GetProperty(nameof(CompiledBlock.Function))!.GetMethod!;
    private static readonly MethodInfo BlockInvokeMethod = typeof(BlockFunction).GetMethod("Invoke")!;
    private static readonly MethodInfo MemoryBarrierMethod = typeof(Interlocked).GetMethod(nameof(Interlocked.MemoryBarrier), Static)!;

    private static readonly Dictionary<Opcode, MethodInfo> Helpers = BuildHelpers();

    /// <summary>How an instruction is handled inside a block.</summary>
    public enum Handling
    {
        /// <summary>Ends the block before it: the dispatcher runs it in the interpreter (SYSTEM, FENCE.I, illegal).</summary>
        Barrier,

        /// <summary>Translated to IL.</summary>
        Translated,

        /// <summary>Translated to IL and ends the block (jumps).</summary>
        EndsBlock,

        /// <summary>A conditional branch: the taken side leaves the block (or loops to its start); the block goes on.</summary>
        Branch,

        /// <summary>Run by the interpreter from inside the block (atomics, carry-less multiply).</summary>
        Interpreted,

        /// <summary>
        /// F/D: translated to a call of <see cref="FloatInstructions"/> (or an inline load/store); when it would trap
        /// (FS Off, invalid dynamic rounding mode) the interpreter runs it and the block ends.
        /// </summary>
        Float,
    }

    /// <summary>How <paramref name="d"/> is handled: as its opcode says, except that CSR reads stay inside the block.</summary>
    public static Handling Classify(in DecodedInstruction d) => IsCsrRead(in d) ? Handling.Interpreted : Classify(d.Op);

    /// <summary>
    /// Zicsr: CSRRS/CSRRC with rs1 = x0 and CSRRSI/CSRRCI with uimm = 0 read a CSR without writing it, so they change
    /// neither privilege, translation nor interrupt enables and need not end the block (rdtime, csrr sstatus and the
    /// five reads on the kernel's trap entry did). The interpreter runs them from inside the block, so permission
    /// checks and their illegal-instruction traps stay exactly the interpreter's.
    /// </summary>
    public static bool IsCsrRead(in DecodedInstruction d) => (d.Op is Opcode.Csrrs or Opcode.Csrrc or Opcode.Csrrsi or Opcode.Csrrci) && d.Rs1 == 0;

    public static Handling Classify(Opcode op) => op switch
    {
        Opcode.Jal or Opcode.Jalr => Handling.EndsBlock,
        >= Opcode.Beq and <= Opcode.Bgeu => Handling.Branch,
        Opcode.Illegal or Opcode.FenceI or (>= Opcode.Ecall and <= Opcode.Csrrci) => Handling.Barrier,
        (>= Opcode.LrW and <= Opcode.AmoMaxuD) or Opcode.Clmul or Opcode.Clmulh or Opcode.Clmulr => Handling.Interpreted,
        >= Opcode.Flw => Handling.Float,
        _ => Handling.Translated,
    };

    /// <summary>
    /// Decodes the block at <paramref name="pc"/> whose bytes start at <paramref name="host"/> into
    /// <paramref name="block"/>; returns the instruction count (0 when the first one is a barrier or crosses the
    /// page) and the byte length.
    /// </summary>
    public static int Scan(ulong pc, byte* host, Span<DecodedInstruction> block, out int length)
    {
        int count = 0;
        length = 0;
        int pageLeft = 4096 - (int)(pc & 0xFFF);
        while (count < block.Length && count < MaxInstructions && pageLeft - length >= 2)
        {
            uint word = Unsafe.ReadUnaligned<ushort>(host + length);
            if ((word & 3) == 3)
            {
                if (pageLeft - length < 4)
                {
                    break; // a 32-bit instruction that spans two pages: the interpreter fetches it
                }

                word = Unsafe.ReadUnaligned<uint>(host + length);
            }

            var d = Decoder.Decode(word);
            Handling handling = Classify(in d);
            if (handling == Handling.Barrier)
            {
                break;
            }

            block[count++] = d;
            length += d.Length;
            if (handling == Handling.EndsBlock)
            {
                break;
            }
        }

        return count;
    }

    /// <summary>Compiles a block that <see cref="Scan"/> produced from the bytes now at <paramref name="host"/>.</summary>
    public static BlockFunction Compile(ulong pc, byte* host, ReadOnlySpan<DecodedInstruction> block, int length) =>
        Compile(pc, (nint)host, new ReadOnlySpan<byte>(host, length), block);

    /// <summary>
    /// Compiles a block that <see cref="Scan"/> produced from <paramref name="code"/>, a copy of the guest bytes
    /// taken when the block was scanned; the block's code check compares the bytes at <paramref name="host"/> with
    /// that copy, so a block compiled later (on the background thread) never runs over code changed meanwhile.
    /// </summary>
    public static BlockFunction Compile(ulong pc, nint host, ReadOnlySpan<byte> code, ReadOnlySpan<DecodedInstruction> block)
    {
        var method = new DynamicMethod($"rv_{pc:x}", typeof(int), [typeof(Hart), typeof(ulong*), typeof(int)], typeof(Hart), skipVisibility: true);
        var emitter = new Emitter(method.GetILGenerator(), pc, host, code, block);
        emitter.Emit();
        return method.CreateDelegate<BlockFunction>();
    }

    /// <summary>
    /// Makes RyuJIT compile <paramref name="function"/> now, on this thread: a zero budget returns before the block
    /// touches the hart, its registers or guest memory (DynamicMethods are compiled on their first call).
    /// </summary>
    public static void Warm(BlockFunction function) => function(null!, null, 0);

    private static Dictionary<Opcode, MethodInfo> BuildHelpers()
    {
        var helpers = new Dictionary<Opcode, MethodInfo>();
        void Add(Opcode op, string name) => helpers[op] = typeof(JitArithmetic).GetMethod(name, Static)!;
        Add(Opcode.Mulh, nameof(JitArithmetic.MulHigh));
        Add(Opcode.Mulhu, nameof(JitArithmetic.MulHighUnsigned));
        Add(Opcode.Mulhsu, nameof(JitArithmetic.MulHighSignedUnsigned));
        Add(Opcode.Div, nameof(JitArithmetic.Div));
        Add(Opcode.Divu, nameof(JitArithmetic.Divu));
        Add(Opcode.Rem, nameof(JitArithmetic.Rem));
        Add(Opcode.Remu, nameof(JitArithmetic.Remu));
        Add(Opcode.Divw, nameof(JitArithmetic.Divw));
        Add(Opcode.Divuw, nameof(JitArithmetic.Divuw));
        Add(Opcode.Remw, nameof(JitArithmetic.Remw));
        Add(Opcode.Remuw, nameof(JitArithmetic.Remuw));
        Add(Opcode.Clz, nameof(JitArithmetic.Clz));
        Add(Opcode.Clzw, nameof(JitArithmetic.Clzw));
        Add(Opcode.Ctz, nameof(JitArithmetic.Ctz));
        Add(Opcode.Ctzw, nameof(JitArithmetic.Ctzw));
        Add(Opcode.Cpop, nameof(JitArithmetic.Cpop));
        Add(Opcode.Cpopw, nameof(JitArithmetic.Cpopw));
        Add(Opcode.Max, nameof(JitArithmetic.Max));
        Add(Opcode.Maxu, nameof(JitArithmetic.Maxu));
        Add(Opcode.Min, nameof(JitArithmetic.Min));
        Add(Opcode.Minu, nameof(JitArithmetic.Minu));
        Add(Opcode.Rol, nameof(JitArithmetic.Rol));
        Add(Opcode.Ror, nameof(JitArithmetic.Ror));
        Add(Opcode.Rori, nameof(JitArithmetic.Ror));
        Add(Opcode.Rolw, nameof(JitArithmetic.Rolw));
        Add(Opcode.Rorw, nameof(JitArithmetic.Rorw));
        Add(Opcode.Roriw, nameof(JitArithmetic.Rorw));
        Add(Opcode.Rev8, nameof(JitArithmetic.Rev8));
        Add(Opcode.OrcB, nameof(JitArithmetic.OrcB));
        Add(Opcode.Bclr, nameof(JitArithmetic.Bclr));
        Add(Opcode.Bclri, nameof(JitArithmetic.Bclr));
        Add(Opcode.Bext, nameof(JitArithmetic.Bext));
        Add(Opcode.Bexti, nameof(JitArithmetic.Bext));
        Add(Opcode.Binv, nameof(JitArithmetic.Binv));
        Add(Opcode.Binvi, nameof(JitArithmetic.Binv));
        Add(Opcode.Bset, nameof(JitArithmetic.Bset));
        Add(Opcode.Bseti, nameof(JitArithmetic.Bset));
        return helpers;
    }

    private static bool UsesImmediate(Opcode op) => op is Opcode.Rori or Opcode.Roriw or Opcode.Bclri or Opcode.Bexti or Opcode.Binvi or Opcode.Bseti;

    /// <summary>Emits the IL for one block. Lives for one <see cref="Compile"/> call.</summary>
    private sealed class Emitter
    {
        private readonly ILGenerator _il;
        private readonly ulong _pc;
        private readonly nint _host;
        private readonly byte[] _code;
        private readonly DecodedInstruction[] _block;
        private readonly int _length;
        private readonly LocalBuilder?[] _registers = new LocalBuilder?[32];
        private readonly bool[] _written = new bool[32];
        private readonly Label[] _faultExits;
        private readonly bool[] _faultExitUsed;
        private readonly Label[] _interpretedExits;
        private readonly bool[] _interpretedExitUsed;
        private LocalBuilder? _loadTlb;
        private LocalBuilder? _storeTlb;
        private LocalBuilder? _address;
        private LocalBuilder? _page;
        private LocalBuilder? _entry;
        private LocalBuilder? _raw;
        private LocalBuilder? _value;
        private LocalBuilder? _target;
        private LocalBuilder? _floatRegisters;

        // Instructions attempted in earlier loop iterations, less any skipped by forward branches: added to every exit's count.
        private LocalBuilder _attempted = null!;

        // Retirements not yet added to instret (earlier iterations, skips): added at every exit and before the interpreter runs.
        private LocalBuilder _pendingInstret = null!;

        // Set by exits that end the block normally: the epilogue may chain to the next block (EmitChain).
        private LocalBuilder _chain = null!;

        // Instructions of this pass whose retirement is already counted in instret (the interpreter counts the ones it runs).
        private int _instretSynced;
        private readonly int[] _syncedBefore;
        private readonly Label[] _starts;
        private readonly List<(int Index, ulong Target, int Synced, Label Label)> _takenBranches = [];
        private readonly Label _epilogue;

        public Emitter(ILGenerator il, ulong pc, nint host, ReadOnlySpan<byte> code, ReadOnlySpan<DecodedInstruction> block)
        {
            _il = il;
            _pc = pc;
            _host = host;
            _code = code.ToArray();
            _block = block.ToArray();
            _length = code.Length;
            _faultExits = new Label[_block.Length];
            _faultExitUsed = new bool[_block.Length];
            _interpretedExits = new Label[_block.Length];
            _interpretedExitUsed = new bool[_block.Length];
            _syncedBefore = new int[_block.Length];
            _starts = new Label[_block.Length];
            _epilogue = il.DefineLabel();
            for (int i = 0; i < _block.Length; i++)
            {
                _faultExits[i] = il.DefineLabel();
                _interpretedExits[i] = il.DefineLabel();
                _starts[i] = il.DefineLabel();
            }
        }

        public void Emit()
        {
            EmitWarmUpExit();
            EmitCodeCheck();
            AllocateLocals();
            EmitPrologue();

            ulong pc = _pc;
            bool ended = false;
            for (int i = 0; i < _block.Length; i++)
            {
                ref readonly DecodedInstruction d = ref _block[i];
                ulong next = pc + d.Length;
                _il.MarkLabel(_starts[i]);
                _syncedBefore[i] = _instretSynced;
                switch (Classify(in d))
                {
                    case Handling.EndsBlock:
                        EmitControlTransfer(in d, pc, next, i + 1);
                        ended = true;
                        break;
                    case Handling.Branch:
                        EmitBranch(in d, pc, i);
                        break;
                    case Handling.Interpreted:
                        EmitInterpreted(in d, pc, next, i);
                        break;
                    case Handling.Float:
                        EmitFloat(in d, pc, i);
                        break;
                    default:
                        EmitInstruction(in d, pc, i);
                        break;
                }

                pc = next;
            }

            if (!ended)
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldc_I8, (long)pc);
                _il.Emit(OpCodes.Stfld, PcField);
                EmitExit(_block.Length, _instretSynced, chain: true);
            }

            foreach (var (index, target, synced, label) in _takenBranches)
            {
                _il.MarkLabel(label);
                EmitTaken(index, target, synced);
            }

            for (int i = 0; i < _block.Length; i++)
            {
                if (_faultExitUsed[i])
                {
                    // Instruction i trapped: the slow path already pointed pc at the handler. i instructions retired.
                    _il.MarkLabel(_faultExits[i]);
                    EmitExit(i, _syncedBefore[i], attempted: i + 1);
                }

                if (_interpretedExitUsed[i])
                {
                    // The interpreter ran instruction i and did not fall through (a trap): it counted instret itself.
                    _il.MarkLabel(_interpretedExits[i]);
                    EmitExit(i + 1, i + 1);
                }
            }

            EmitEpilogue();
        }

        private void EmitBranch(in DecodedInstruction d, ulong pc, int index)
        {
            var taken = _il.DefineLabel();
            Read(d.Rs1);
            Read(d.Rs2);
            _il.Emit(d.Op switch
            {
                Opcode.Beq => OpCodes.Beq,
                Opcode.Bne => OpCodes.Bne_Un,
                Opcode.Blt => OpCodes.Blt,
                Opcode.Bge => OpCodes.Bge,
                Opcode.Bltu => OpCodes.Blt_Un,
                _ => OpCodes.Bge_Un,
            }, taken);
            _takenBranches.Add((index, pc + (ulong)(long)d.Imm, _instretSynced, taken));
        }

        /// <summary>The taken side of the branch at <paramref name="index"/>: loop, skip ahead, or leave.</summary>
        private void EmitTaken(int index, ulong target, int synced)
        {
            int done = index + 1;
            if (target == _pc)
            {
                // Another pass over the block, if the budget allows a whole one; registers stay in locals.
                AddToLocal(_attempted, done, isLong: false);
                AddToLocal(_pendingInstret, done - synced, isLong: true);
                var stop = _il.DefineLabel();
                _il.Emit(OpCodes.Ldloc, _attempted);
                _il.Emit(OpCodes.Ldc_I4, _block.Length);
                _il.Emit(OpCodes.Add);
                _il.Emit(OpCodes.Ldarg_2);
                _il.Emit(OpCodes.Bgt, stop);
                _il.Emit(OpCodes.Br, _starts[0]);
                _il.MarkLabel(stop);
                SetPc(_pc);
                EmitExit(0, 0, chain: true);
                return;
            }

            int skipTo = IndexOf(target);
            if (skipTo > done && !InterpretedBetween(done, skipTo))
            {
                // Forward inside the block: the skipped instructions neither retire nor count.
                AddToLocal(_attempted, done - skipTo, isLong: false);
                AddToLocal(_pendingInstret, done - skipTo, isLong: true);
                _il.Emit(OpCodes.Br, _starts[skipTo]);
                return;
            }

            SetPc(target);
            EmitExit(done, synced, chain: true);
        }

        private int IndexOf(ulong target)
        {
            ulong pc = _pc;
            for (int i = 0; i < _block.Length; i++)
            {
                if (pc == target)
                {
                    return i;
                }

                pc += _block[i].Length;
            }

            return -1;
        }

        private bool InterpretedBetween(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                if (Classify(in _block[i]) == Handling.Interpreted)
                {
                    return true;
                }
            }

            return false;
        }

        private void AddToLocal(LocalBuilder local, int amount, bool isLong)
        {
            _il.Emit(OpCodes.Ldloc, local);
            if (isLong)
            {
                _il.Emit(OpCodes.Ldc_I8, (long)amount);
            }
            else
            {
                _il.Emit(OpCodes.Ldc_I4, amount);
            }

            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stloc, local);
        }

        /// <summary>A budget of zero (never passed by the dispatcher) returns 0 at once: see <see cref="Warm"/>.</summary>
        private void EmitWarmUpExit()
        {
            var run = _il.DefineLabel();
            _il.Emit(OpCodes.Ldarg_2);
            _il.Emit(OpCodes.Brtrue, run);
            _il.Emit(OpCodes.Ldc_I4_0);
            _il.Emit(OpCodes.Ret);
            _il.MarkLabel(run);
        }

        private void EmitCodeCheck()
        {
            var changed = _il.DefineLabel();
            int offset = 0;
            while (offset < _length)
            {
                int left = _length - offset;
                _il.Emit(OpCodes.Ldc_I8, (long)(_host + offset));
                _il.Emit(OpCodes.Conv_U);
                if (left >= 8)
                {
                    _il.Emit(OpCodes.Ldind_I8);
                    _il.Emit(OpCodes.Ldc_I8, BitConverter.ToInt64(_code, offset));
                    offset += 8;
                }
                else if (left >= 4)
                {
                    _il.Emit(OpCodes.Ldind_I4);
                    _il.Emit(OpCodes.Ldc_I4, BitConverter.ToInt32(_code, offset));
                    offset += 4;
                }
                else
                {
                    _il.Emit(OpCodes.Ldind_U2);
                    _il.Emit(OpCodes.Ldc_I4, (int)BitConverter.ToUInt16(_code, offset));
                    offset += 2;
                }

                _il.Emit(OpCodes.Bne_Un, changed);
            }

            var proceed = _il.DefineLabel();
            _il.Emit(OpCodes.Br, proceed);
            _il.MarkLabel(changed);
            _il.Emit(OpCodes.Ldc_I4_M1);
            _il.Emit(OpCodes.Ret);
            _il.MarkLabel(proceed);
        }

        private void AllocateLocals()
        {
            foreach (var d in _block)
            {
                Use(d.Rs1);
                Use(d.Rs2);
                if (d.Rd != Hart.SinkRegister && WritesIntegerRd(d.Op))
                {
                    Use(d.Rd);
                    _written[d.Rd] = true;
                }

                if (d.Op is >= Opcode.Lb and <= Opcode.Lwu)
                {
                    _loadTlb ??= _il.DeclareLocal(typeof(nint));
                }

                if (d.Op is (>= Opcode.Sb and <= Opcode.Sd) or Opcode.Fsw or Opcode.Fsd)
                {
                    _storeTlb ??= _il.DeclareLocal(typeof(nint));
                }

                if (d.Op is Opcode.Flw or Opcode.Fld)
                {
                    _loadTlb ??= _il.DeclareLocal(typeof(nint));
                }

                if (d.Op >= Opcode.Flw)
                {
                    _floatRegisters ??= _il.DeclareLocal(typeof(nint));
                }
            }

            _address = _il.DeclareLocal(typeof(ulong));
            _page = _il.DeclareLocal(typeof(ulong));
            _entry = _il.DeclareLocal(typeof(nint));
            _raw = _il.DeclareLocal(typeof(ulong));
            _value = _il.DeclareLocal(typeof(ulong));
            _target = _il.DeclareLocal(typeof(ulong));
            _attempted = _il.DeclareLocal(typeof(int));
            _pendingInstret = _il.DeclareLocal(typeof(long));
            _chain = _il.DeclareLocal(typeof(bool));
        }

        /// <summary>
        /// Whether the decoded Rd names an integer register the instruction writes. F/D instructions other than the
        /// ones that produce an integer keep their destination in the float file, so they write no integer local.
        /// </summary>
        private static bool WritesIntegerRd(Opcode op) => op switch
        {
            >= Opcode.Sb and <= Opcode.Sd => false,
            >= Opcode.Beq and <= Opcode.Bgeu => false,
            Opcode.Fence => false,
            Opcode.FcvtWS or Opcode.FcvtWuS or Opcode.FcvtLS or Opcode.FcvtLuS or Opcode.FmvXW or Opcode.FclassS or
                Opcode.FeqS or Opcode.FltS or Opcode.FleS or Opcode.FcvtWD or Opcode.FcvtWuD or Opcode.FcvtLD or
                Opcode.FcvtLuD or Opcode.FmvXD or Opcode.FclassD or Opcode.FeqD or Opcode.FltD or Opcode.FleD => true,
            >= Opcode.Flw => false,
            _ => true,
        };

        private void Use(int register)
        {
            if (register is > 0 and < 32)
            {
                _registers[register] ??= _il.DeclareLocal(typeof(ulong));
            }
        }

        private void EmitPrologue()
        {
            for (int r = 1; r < 32; r++)
            {
                if (_registers[r] is { } local)
                {
                    EmitRegisterAddress(r);
                    _il.Emit(OpCodes.Ldind_I8);
                    _il.Emit(OpCodes.Stloc, local);
                }
            }

            if (_loadTlb is not null)
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldfld, LoadTlbField);
                _il.Emit(OpCodes.Stloc, _loadTlb);
            }

            if (_storeTlb is not null)
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldfld, StoreTlbField);
                _il.Emit(OpCodes.Stloc, _storeTlb);
            }

            if (_floatRegisters is not null)
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldfld, FloatRegistersField);
                _il.Emit(OpCodes.Stloc, _floatRegisters);
            }
        }

        private void EmitRegisterAddress(int r)
        {
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldc_I4, r * 8);
            _il.Emit(OpCodes.Add);
        }

        private void EmitWriteBack()
        {
            for (int r = 1; r < 32; r++)
            {
                if (_written[r])
                {
                    EmitRegisterAddress(r);
                    _il.Emit(OpCodes.Ldloc, _registers[r]!);
                    _il.Emit(OpCodes.Stind_I8);
                }
            }
        }

        private void EmitReload(int r)
        {
            if (r is > 0 and < 32 && _registers[r] is { } local)
            {
                EmitRegisterAddress(r);
                _il.Emit(OpCodes.Ldind_I8);
                _il.Emit(OpCodes.Stloc, local);
            }
        }

        /// <summary>instret += pending + <paramref name="count"/>.</summary>
        private void EmitInstretAdd(int count)
        {
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldfld, InstretField);
            _il.Emit(OpCodes.Ldloc, _pendingInstret);
            _il.Emit(OpCodes.Add);
            if (count != 0)
            {
                _il.Emit(OpCodes.Ldc_I8, (long)count);
                _il.Emit(OpCodes.Add);
            }

            _il.Emit(OpCodes.Stfld, InstretField);
        }

        /// <summary>
        /// Leaves the block (pc already stored) with <paramref name="retired"/> instructions of this pass retired, of which
        /// <paramref name="synced"/> are already in instret; returns <paramref name="attempted"/> (default: retired) plus earlier passes.
        /// </summary>
        private void EmitExit(int retired, int synced, int attempted = -1, bool chain = false)
        {
            // Every exit shares one epilogue, which keeps the IL (and RyuJIT's compile time) small; exits that end the
            // block normally (not a trap) enter it where it may chain to the next block.
            if (retired != synced)
            {
                AddToLocal(_pendingInstret, retired - synced, isLong: true);
            }

            attempted = attempted < 0 ? retired : attempted;
            if (attempted != 0)
            {
                AddToLocal(_attempted, attempted, isLong: false);
            }

            if (chain)
            {
                _il.Emit(OpCodes.Ldc_I4_1);
                _il.Emit(OpCodes.Stloc, _chain);
            }

            _il.Emit(OpCodes.Br, _epilogue);
        }

        /// <summary>
        /// Writes back the registers and adds the pending retirements to instret. After a trap it returns the attempted
        /// count; after a normal exit it first tries to chain (<see cref="EmitChain"/>).
        /// </summary>
        private void EmitEpilogue()
        {
            _il.MarkLabel(_epilogue);
            EmitWriteBack();
            EmitInstretAdd(0);
            var plain = _il.DefineLabel();
            _il.Emit(OpCodes.Ldloc, _chain);
            _il.Emit(OpCodes.Brfalse, plain);
            EmitChain(plain);
            _il.MarkLabel(plain);
            _il.Emit(OpCodes.Ldloc, _attempted);
            _il.Emit(OpCodes.Ret);
        }

        /// <summary>
        /// Chaining inside the compiled code: with every register and instret already written back and pc at the next
        /// block, enter the block <see cref="Hart.ChainTarget"/> finds (which also moves the instructions attempted so far
        /// to the hart's chain carry) with a tail call; without one fall to <paramref name="plain"/>. The checks live in
        /// that method, not in each block's IL, because RyuJIT's compile time grows with the IL (inlined here, they
        /// made blocks ~30 % slower to compile, which showed as later code in short benchmarks).
        /// </summary>
        private void EmitChain(Label plain)
        {
            var next = _il.DeclareLocal(typeof(CompiledBlock));
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldloc, _attempted);
            _il.Emit(OpCodes.Ldarg_2);
            _il.Emit(OpCodes.Call, ChainTargetMethod);
            _il.Emit(OpCodes.Dup);
            _il.Emit(OpCodes.Stloc, next);
            _il.Emit(OpCodes.Brfalse, plain);
            _il.Emit(OpCodes.Ldloc, next);
            _il.Emit(OpCodes.Call, BlockFunctionGetter);
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldarg_2);
            _il.Emit(OpCodes.Ldloc, _attempted);
            _il.Emit(OpCodes.Sub);
            _il.Emit(OpCodes.Tailcall);
            _il.Emit(OpCodes.Callvirt, BlockInvokeMethod);
            _il.Emit(OpCodes.Ret);
        }

        private void Read(int r)
        {
            if (r == 0)
            {
                _il.Emit(OpCodes.Ldc_I8, 0L);
            }
            else
            {
                _il.Emit(OpCodes.Ldloc, _registers[r]!);
            }
        }

        private void Immediate(in DecodedInstruction d) => _il.Emit(OpCodes.Ldc_I8, (long)d.Imm);

        private void Store(int rd) => _il.Emit(OpCodes.Stloc, _registers[rd]!);

        private void SignExtendWord()
        {
            _il.Emit(OpCodes.Conv_I4);
            _il.Emit(OpCodes.Conv_I8);
        }

        private void Binary(in DecodedInstruction d, OpCode op)
        {
            Read(d.Rs1);
            Read(d.Rs2);
            _il.Emit(op);
        }

        private void BinaryImmediate(in DecodedInstruction d, OpCode op)
        {
            Read(d.Rs1);
            Immediate(in d);
            _il.Emit(op);
        }

        private void Shift(in DecodedInstruction d, OpCode op, int mask)
        {
            Read(d.Rs2);
            _il.Emit(OpCodes.Conv_I4);
            _il.Emit(OpCodes.Ldc_I4, mask);
            _il.Emit(OpCodes.And);
            _il.Emit(op);
        }

        private void ShiftAdd(in DecodedInstruction d, int amount, bool zeroExtend)
        {
            Read(d.Rs1);
            if (zeroExtend)
            {
                _il.Emit(OpCodes.Conv_U4);
                _il.Emit(OpCodes.Conv_U8);
            }

            _il.Emit(OpCodes.Ldc_I4, amount);
            _il.Emit(OpCodes.Shl);
            Read(d.Rs2);
            _il.Emit(OpCodes.Add);
        }

        private void EmitInstruction(in DecodedInstruction d, ulong pc, int index)
        {
            if (d.Op is >= Opcode.Lb and <= Opcode.Lwu)
            {
                EmitLoad(in d, pc, index);
                return;
            }

            if (d.Op is >= Opcode.Sb and <= Opcode.Sd)
            {
                EmitStore(in d, pc, index);
                return;
            }

            if (d.Op == Opcode.Fence)
            {
                // x86 keeps every order RVWMO needs except store-then-load; a full barrier covers it.
                _il.Emit(OpCodes.Call, MemoryBarrierMethod);
                return;
            }

            if (d.Rd == Hart.SinkRegister)
            {
                return; // the remaining translated instructions have no effect beyond rd
            }

            EmitValue(in d, pc);
            Store(d.Rd);
        }

        /// <summary>Pushes the rd value of a register-to-register instruction (unprivileged spec ch. 2, 4, 13; Zba/Zbb/Zbs).</summary>
        private void EmitValue(in DecodedInstruction d, ulong pc)
        {
            if (Helpers.TryGetValue(d.Op, out var helper))
            {
                Read(d.Rs1);
                if (UsesImmediate(d.Op))
                {
                    Immediate(in d);
                }
                else
                {
                    Read(d.Rs2);
                }

                _il.Emit(OpCodes.Call, helper);
                return;
            }

            switch (d.Op)
            {
                case Opcode.Lui: Immediate(in d); break;
                case Opcode.Auipc: _il.Emit(OpCodes.Ldc_I8, (long)(pc + (ulong)(long)d.Imm)); break;
                case Opcode.Addi: BinaryImmediate(in d, OpCodes.Add); break;
                case Opcode.Slti: BinaryImmediate(in d, OpCodes.Clt); _il.Emit(OpCodes.Conv_U8); break;
                case Opcode.Sltiu: BinaryImmediate(in d, OpCodes.Clt_Un); _il.Emit(OpCodes.Conv_U8); break;
                case Opcode.Xori: BinaryImmediate(in d, OpCodes.Xor); break;
                case Opcode.Ori: BinaryImmediate(in d, OpCodes.Or); break;
                case Opcode.Andi: BinaryImmediate(in d, OpCodes.And); break;
                case Opcode.Slli: Read(d.Rs1); _il.Emit(OpCodes.Ldc_I4, d.Imm & 63); _il.Emit(OpCodes.Shl); break;
                case Opcode.Srli: Read(d.Rs1); _il.Emit(OpCodes.Ldc_I4, d.Imm & 63); _il.Emit(OpCodes.Shr_Un); break;
                case Opcode.Srai: Read(d.Rs1); _il.Emit(OpCodes.Ldc_I4, d.Imm & 63); _il.Emit(OpCodes.Shr); break;
                case Opcode.Add: Binary(in d, OpCodes.Add); break;
                case Opcode.Sub: Binary(in d, OpCodes.Sub); break;
                case Opcode.Sll: Read(d.Rs1); Shift(in d, OpCodes.Shl, 63); break;
                case Opcode.Slt: Binary(in d, OpCodes.Clt); _il.Emit(OpCodes.Conv_U8); break;
                case Opcode.Sltu: Binary(in d, OpCodes.Clt_Un); _il.Emit(OpCodes.Conv_U8); break;
                case Opcode.Xor: Binary(in d, OpCodes.Xor); break;
                case Opcode.Srl: Read(d.Rs1); Shift(in d, OpCodes.Shr_Un, 63); break;
                case Opcode.Sra: Read(d.Rs1); Shift(in d, OpCodes.Shr, 63); break;
                case Opcode.Or: Binary(in d, OpCodes.Or); break;
                case Opcode.And: Binary(in d, OpCodes.And); break;
                case Opcode.Addiw: BinaryImmediate(in d, OpCodes.Add); SignExtendWord(); break;
                case Opcode.Slliw:
                    Read(d.Rs1); _il.Emit(OpCodes.Conv_I4); _il.Emit(OpCodes.Ldc_I4, d.Imm & 31); _il.Emit(OpCodes.Shl); _il.Emit(OpCodes.Conv_I8);
                    break;
                case Opcode.Srliw:
                    Read(d.Rs1); _il.Emit(OpCodes.Conv_U4); _il.Emit(OpCodes.Ldc_I4, d.Imm & 31); _il.Emit(OpCodes.Shr_Un); _il.Emit(OpCodes.Conv_I8);
                    break;
                case Opcode.Sraiw:
                    Read(d.Rs1); _il.Emit(OpCodes.Conv_I4); _il.Emit(OpCodes.Ldc_I4, d.Imm & 31); _il.Emit(OpCodes.Shr); _il.Emit(OpCodes.Conv_I8);
                    break;
                case Opcode.Addw: Binary(in d, OpCodes.Add); SignExtendWord(); break;
                case Opcode.Subw: Binary(in d, OpCodes.Sub); SignExtendWord(); break;
                case Opcode.Sllw: Read(d.Rs1); _il.Emit(OpCodes.Conv_I4); Shift(in d, OpCodes.Shl, 31); _il.Emit(OpCodes.Conv_I8); break;
                case Opcode.Srlw: Read(d.Rs1); _il.Emit(OpCodes.Conv_U4); Shift(in d, OpCodes.Shr_Un, 31); _il.Emit(OpCodes.Conv_I8); break;
                case Opcode.Sraw: Read(d.Rs1); _il.Emit(OpCodes.Conv_I4); Shift(in d, OpCodes.Shr, 31); _il.Emit(OpCodes.Conv_I8); break;
                case Opcode.Mul: Binary(in d, OpCodes.Mul); break;
                case Opcode.Mulw:
                    Read(d.Rs1); _il.Emit(OpCodes.Conv_U4); Read(d.Rs2); _il.Emit(OpCodes.Conv_U4); _il.Emit(OpCodes.Mul); _il.Emit(OpCodes.Conv_I8);
                    break;
                case Opcode.AddUw: ShiftAdd(in d, 0, zeroExtend: true); break;
                case Opcode.Sh1Add: ShiftAdd(in d, 1, zeroExtend: false); break;
                case Opcode.Sh2Add: ShiftAdd(in d, 2, zeroExtend: false); break;
                case Opcode.Sh3Add: ShiftAdd(in d, 3, zeroExtend: false); break;
                case Opcode.Sh1AddUw: ShiftAdd(in d, 1, zeroExtend: true); break;
                case Opcode.Sh2AddUw: ShiftAdd(in d, 2, zeroExtend: true); break;
                case Opcode.Sh3AddUw: ShiftAdd(in d, 3, zeroExtend: true); break;
                case Opcode.SlliUw:
                    Read(d.Rs1); _il.Emit(OpCodes.Conv_U4); _il.Emit(OpCodes.Conv_U8); _il.Emit(OpCodes.Ldc_I4, d.Imm & 63); _il.Emit(OpCodes.Shl);
                    break;
                case Opcode.Andn: Read(d.Rs1); Read(d.Rs2); _il.Emit(OpCodes.Not); _il.Emit(OpCodes.And); break;
                case Opcode.Orn: Read(d.Rs1); Read(d.Rs2); _il.Emit(OpCodes.Not); _il.Emit(OpCodes.Or); break;
                case Opcode.Xnor: Binary(in d, OpCodes.Xor); _il.Emit(OpCodes.Not); break;
                case Opcode.SextB: Read(d.Rs1); _il.Emit(OpCodes.Conv_I1); _il.Emit(OpCodes.Conv_I8); break;
                case Opcode.SextH: Read(d.Rs1); _il.Emit(OpCodes.Conv_I2); _il.Emit(OpCodes.Conv_I8); break;
                case Opcode.ZextH: Read(d.Rs1); _il.Emit(OpCodes.Conv_U2); _il.Emit(OpCodes.Conv_U8); break;
                default:
                    throw new InvalidOperationException($"the translator has no IL for {d.Op}");
            }
        }

        private void EmitControlTransfer(in DecodedInstruction d, ulong pc, ulong next, int count)
        {
            if (d.Op == Opcode.Jal)
            {
                if (d.Rd != Hart.SinkRegister)
                {
                    _il.Emit(OpCodes.Ldc_I8, (long)next);
                    Store(d.Rd);
                }

                ulong target = pc + (ulong)(long)d.Imm;
                if (target == _pc)
                {
                    EmitTaken(count - 1, target, _instretSynced);
                    return;
                }

                SetPc(target);
                EmitExit(count, _instretSynced, chain: true);
                return;
            }

            // jalr: the target uses rs1 before rd is written: they may be the same register.
            BinaryImmediate(in d, OpCodes.Add);
            _il.Emit(OpCodes.Ldc_I8, ~1L);
            _il.Emit(OpCodes.And);
            _il.Emit(OpCodes.Stloc, _target!);
            if (d.Rd != Hart.SinkRegister)
            {
                _il.Emit(OpCodes.Ldc_I8, (long)next);
                Store(d.Rd);
            }

            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldloc, _target!);
            _il.Emit(OpCodes.Stfld, PcField);
            EmitExit(count, _instretSynced, chain: true);
        }

        private void SetPc(ulong value)
        {
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldc_I8, (long)value);
            _il.Emit(OpCodes.Stfld, PcField);
        }

        /// <summary>
        /// Leaves <c>_entry</c> pointing at the TLB entry for the address in <c>_address</c> and branches to
        /// <paramref name="slow"/> unless it hits and the access stays inside the page (Hart.Memory.cs Load/Store).
        /// </summary>
        private void EmitTlbProbe(in DecodedInstruction d, LocalBuilder tlb, int size, Label slow)
        {
            Read(d.Rs1);
            Immediate(in d);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stloc, _address!);
            _il.Emit(OpCodes.Ldloc, _address!);
            _il.Emit(OpCodes.Ldc_I4, 12);
            _il.Emit(OpCodes.Shr_Un);
            _il.Emit(OpCodes.Stloc, _page!);
            _il.Emit(OpCodes.Ldloc, tlb);
            _il.Emit(OpCodes.Ldloc, _page!);
            _il.Emit(OpCodes.Conv_U4);
            _il.Emit(OpCodes.Ldc_I4, Hart.JitTlbMask);
            _il.Emit(OpCodes.And);
            _il.Emit(OpCodes.Conv_U);
            _il.Emit(OpCodes.Ldc_I4, Hart.JitTlbEntrySize);
            _il.Emit(OpCodes.Mul);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stloc, _entry!);
            _il.Emit(OpCodes.Ldloc, _entry!);
            _il.Emit(OpCodes.Ldind_I8);
            _il.Emit(OpCodes.Ldloc, _page!);
            _il.Emit(OpCodes.Bne_Un, slow);
            if (size > 1)
            {
                _il.Emit(OpCodes.Ldloc, _address!);
                _il.Emit(OpCodes.Conv_U4);
                _il.Emit(OpCodes.Ldc_I4, 0xFFF);
                _il.Emit(OpCodes.And);
                _il.Emit(OpCodes.Ldc_I4, 4096 - size);
                _il.Emit(OpCodes.Bgt_Un, slow);
            }

            // host address = va + HostDelta
            _il.Emit(OpCodes.Ldloc, _address!);
            _il.Emit(OpCodes.Ldloc, _entry!);
            _il.Emit(OpCodes.Ldc_I4, Hart.JitTlbHostDeltaOffset);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Ldind_I8);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Conv_U);
        }

        private void EmitLoad(in DecodedInstruction d, ulong pc, int index)
        {
            (int size, OpCode load, OpCode extend1, OpCode extend2) = d.Op switch
            {
                Opcode.Flw => (4, OpCodes.Ldind_U4, OpCodes.Conv_U4, OpCodes.Conv_U8),
                Opcode.Fld => (8, OpCodes.Ldind_I8, OpCodes.Nop, OpCodes.Nop),
                Opcode.Lb => (1, OpCodes.Ldind_I1, OpCodes.Conv_I1, OpCodes.Conv_I8),
                Opcode.Lbu => (1, OpCodes.Ldind_U1, OpCodes.Conv_U1, OpCodes.Conv_U8),
                Opcode.Lh => (2, OpCodes.Ldind_I2, OpCodes.Conv_I2, OpCodes.Conv_I8),
                Opcode.Lhu => (2, OpCodes.Ldind_U2, OpCodes.Conv_U2, OpCodes.Conv_U8),
                Opcode.Lw => (4, OpCodes.Ldind_I4, OpCodes.Conv_I4, OpCodes.Conv_I8),
                Opcode.Lwu => (4, OpCodes.Ldind_U4, OpCodes.Conv_U4, OpCodes.Conv_U8),
                _ => (8, OpCodes.Ldind_I8, OpCodes.Nop, OpCodes.Nop),
            };
            var slow = _il.DefineLabel();
            var done = _il.DefineLabel();
            EmitTlbProbe(in d, _loadTlb!, size, slow);
            if (size > 1)
            {
                _il.Emit(OpCodes.Unaligned, (byte)1);
            }

            _il.Emit(load);
            if (size < 8)
            {
                _il.Emit(extend2);
            }

            _il.Emit(OpCodes.Stloc, _value!);
            _il.Emit(OpCodes.Br, done);

            _il.MarkLabel(slow);
            SetPc(pc);
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldloc, _address!);
            _il.Emit(OpCodes.Ldc_I4, size);
            _il.Emit(OpCodes.Ldloca, _raw!);
            _il.Emit(OpCodes.Call, LoadSlowMethod);
            _il.Emit(OpCodes.Brfalse, _faultExits[index]);
            _faultExitUsed[index] = true;
            _il.Emit(OpCodes.Ldloc, _raw!);
            if (size < 8)
            {
                _il.Emit(extend1);
                _il.Emit(extend2);
            }

            _il.Emit(OpCodes.Stloc, _value!);

            _il.MarkLabel(done);
            if (d.Op is Opcode.Flw or Opcode.Fld)
            {
                // f[rd] = value, NaN-boxed for FLW (21.2)
                EmitFloatRegisterAddress(d.Rd);
                _il.Emit(OpCodes.Ldloc, _value!);
                if (d.Op == Opcode.Flw)
                {
                    _il.Emit(OpCodes.Ldc_I8, unchecked((long)FloatInstructions.BoxMask));
                    _il.Emit(OpCodes.Or);
                }

                _il.Emit(OpCodes.Stind_I8);
            }
            else if (d.Rd != Hart.SinkRegister)
            {
                _il.Emit(OpCodes.Ldloc, _value!);
                Store(d.Rd);
            }
        }

        private void EmitStore(in DecodedInstruction d, ulong pc, int index)
        {
            (int size, OpCode store) = d.Op switch
            {
                Opcode.Sb => (1, OpCodes.Stind_I1),
                Opcode.Sh => (2, OpCodes.Stind_I2),
                Opcode.Sw or Opcode.Fsw => (4, OpCodes.Stind_I4),
                _ => (8, OpCodes.Stind_I8),
            };
            var slow = _il.DefineLabel();
            var done = _il.DefineLabel();
            EmitTlbProbe(in d, _storeTlb!, size, slow);
            ReadStoreValue(in d);
            if (size < 8)
            {
                _il.Emit(OpCodes.Conv_U4);
            }

            if (size > 1)
            {
                _il.Emit(OpCodes.Unaligned, (byte)1);
            }

            _il.Emit(store);
            _il.Emit(OpCodes.Br, done);

            _il.MarkLabel(slow);
            SetPc(pc);
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldloc, _address!);
            _il.Emit(OpCodes.Ldc_I4, size);
            ReadStoreValue(in d);
            _il.Emit(OpCodes.Call, StoreSlowMethod);
            _il.Emit(OpCodes.Brfalse, _faultExits[index]);
            _faultExitUsed[index] = true;
            _il.MarkLabel(done);
        }

        /// <summary>
        /// Runs one instruction in the interpreter: registers and instret written back first, pc at the instruction;
        /// afterwards its integer result (if any) is reloaded, and unless pc moved on to the next instruction (it
        /// trapped) the block continues.
        /// </summary>
        private void EmitInterpreted(in DecodedInstruction d, ulong pc, ulong next, int index)
        {
            EmitWriteBack();
            EmitInstretAdd(index - _instretSynced);
            _il.Emit(OpCodes.Ldc_I8, 0L);
            _il.Emit(OpCodes.Stloc, _pendingInstret);
            _instretSynced = index + 1;
            SetPc(pc);
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Call, InterpretOneMethod);
            if (d.Rd != Hart.SinkRegister && WritesIntegerRd(d.Op))
            {
                EmitReload(d.Rd);
            }

            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldfld, PcField);
            _il.Emit(OpCodes.Ldc_I8, (long)next);
            _il.Emit(OpCodes.Bne_Un, _interpretedExits[index]);
            _interpretedExitUsed[index] = true;
        }

        /// <summary>
        /// An F/D instruction (unprivileged spec ch. 20–21). When FS is Off (3.1.6.6) or a dynamic rounding mode names
        /// an invalid frm (20.2) it would trap: the interpreter runs it (registers and instret synced, pc at it) and
        /// the block ends. Otherwise loads and stores take the inline TLB path, and the rest call the same
        /// <see cref="FloatInstructions"/> function as the interpreter with the integer registers from the locals and
        /// fflags accrued in place; FS becomes Dirty exactly where the interpreter makes it Dirty.
        /// </summary>
        private void EmitFloat(in DecodedInstruction d, ulong pc, int index)
        {
            var trap = _il.DefineLabel();
            var after = _il.DefineLabel();
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldfld, MstatusField);
            _il.Emit(OpCodes.Ldc_I8, (long)StatusBits.Fs);
            _il.Emit(OpCodes.And);
            _il.Emit(OpCodes.Ldc_I8, 0L);
            _il.Emit(OpCodes.Beq, trap);
            bool dynamic = d.Rm == 7;
            if (dynamic && FloatInstructions.IsRounded(d.Op))
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldfld, FrmField);
                _il.Emit(OpCodes.Ldc_I4_4);
                _il.Emit(OpCodes.Bgt_Un, trap);
            }
            else if (d.Rm > 4 && FloatInstructions.IsRounded(d.Op))
            {
                _il.Emit(OpCodes.Br, trap); // a reserved static mode the decoder let through: always illegal
            }

            switch (d.Op)
            {
                case Opcode.Flw or Opcode.Fld:
                    EmitLoad(in d, pc, index);
                    break;
                case Opcode.Fsw or Opcode.Fsd:
                    EmitStore(in d, pc, index);
                    break;
                default:
                    EmitFloatOperation(in d, dynamic);
                    break;
            }

            if (FloatInstructions.MarksDirty(d.Op))
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldfld, MstatusField);
                _il.Emit(OpCodes.Ldc_I8, unchecked((long)StatusBits.FsDirty));
                _il.Emit(OpCodes.Or);
                _il.Emit(OpCodes.Stfld, MstatusField);
            }

            _il.Emit(OpCodes.Br, after);

            // The trapping case, out of the straight line: the interpreter raises the illegal-instruction trap.
            _il.MarkLabel(trap);
            EmitWriteBack();
            EmitInstretAdd(index - _instretSynced);
            _il.Emit(OpCodes.Ldc_I8, 0L);
            _il.Emit(OpCodes.Stloc, _pendingInstret);
            SetPc(pc);
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Call, InterpretOneMethod);
            if (d.Rd != Hart.SinkRegister && FloatInstructions.WritesInteger(d.Op))
            {
                EmitReload(d.Rd);
            }

            _il.Emit(OpCodes.Br, _interpretedExits[index]);
            _interpretedExitUsed[index] = true;
            _il.MarkLabel(after);
        }

        private void EmitFloatOperation(in DecodedInstruction d, bool dynamic)
        {
            if (FloatInstructions.WritesInteger(d.Op))
            {
                _il.Emit(OpCodes.Ldc_I4, (int)d.Op);
                ReadFloat(d.Rs1);
                ReadFloat(d.Rs2);
                EmitRoundingMode(in d, dynamic);
                _il.Emit(OpCodes.Call, IntegerResultMethod);
                if (d.Rd == Hart.SinkRegister)
                {
                    _il.Emit(OpCodes.Pop);
                }
                else
                {
                    Store(d.Rd);
                }

                return;
            }

            EmitFloatRegisterAddress(d.Rd);
            _il.Emit(OpCodes.Ldc_I4, (int)d.Op);
            if (FloatInstructions.ReadsInteger(d.Op))
            {
                Read(d.Rs1);
                EmitRoundingMode(in d, dynamic);
                _il.Emit(OpCodes.Call, FromIntegerMethod);
            }
            else
            {
                ReadFloat(d.Rs1);
                ReadFloat(d.Rs2);
                ReadFloat(d.Rs3);
                EmitRoundingMode(in d, dynamic);
                _il.Emit(OpCodes.Call, FloatResultMethod);
            }

            _il.Emit(OpCodes.Stind_I8);
        }

        /// <summary>Pushes rm (frm when dynamic, as the interpreter resolves it) and a reference to the hart's fflags.</summary>
        private void EmitRoundingMode(in DecodedInstruction d, bool dynamic)
        {
            if (dynamic)
            {
                _il.Emit(OpCodes.Ldarg_0);
                _il.Emit(OpCodes.Ldfld, FrmField);
            }
            else
            {
                _il.Emit(OpCodes.Ldc_I4, (int)d.Rm);
            }

            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldflda, FflagsField);
        }

        private void EmitFloatRegisterAddress(int r)
        {
            _il.Emit(OpCodes.Ldloc, _floatRegisters!);
            if (r != 0)
            {
                _il.Emit(OpCodes.Ldc_I4, r * 8);
                _il.Emit(OpCodes.Add);
            }
        }

        private void ReadFloat(int r)
        {
            EmitFloatRegisterAddress(r);
            _il.Emit(OpCodes.Ldind_I8);
        }

        /// <summary>The value a store writes: x[rs2], or f[rs2] for FSW/FSD.</summary>
        private void ReadStoreValue(in DecodedInstruction d)
        {
            if (d.Op is Opcode.Fsw or Opcode.Fsd)
            {
                ReadFloat(d.Rs2);
            }
            else
            {
                Read(d.Rs2);
            }
        }
    }
}
