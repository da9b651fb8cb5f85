using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vessel.RiscV.Decoding;
using Vessel.RiscV.Jit;

namespace Vessel.RiscV;

/// <summary>
/// The JIT dispatcher (issue 9): looks the pc up in the hart's <see cref="TranslationCache"/>, runs blocks in the
/// interpreter until they are hot, then compiled. Interrupts are taken between calls to this loop, as with the
/// interpreter. SYSTEM instructions, FENCE.I and fetch TLB misses go to the interpreter and end the loop, so every
/// change of privilege, translation or interrupt enables is seen before the next block is looked up.
/// </summary>
public sealed unsafe partial class Hart
{
    // What BlockTranslator's IL refers to; nameof keeps it in step with the fields it names.
    internal const string JitInstretFieldName = nameof(_instret);
    internal const string JitLoadTlbFieldName = nameof(_loadTlb);
    internal const string JitStoreTlbFieldName = nameof(_storeTlb);
    internal const string JitLoadSlowName = nameof(LoadSlow);
    internal const string JitStoreSlowName = nameof(StoreSlow);
    internal const string JitMstatusFieldName = nameof(_mstatus);
    internal const string JitFflagsFieldName = nameof(_fflags);
    internal const string JitFrmFieldName = nameof(_frm);
    internal const string JitFloatRegistersFieldName = nameof(_f);
    internal const int JitTlbMask = TlbMask;
    internal static readonly int JitTlbEntrySize = sizeof(TlbEntry);
    internal static readonly int JitTlbHostDeltaOffset = (int)Marshal.OffsetOf<TlbEntry>(nameof(TlbEntry.HostDelta));

    // Direct-mapped by pc bits: finds the block after an indirect jump (jalr, ret) or a block whose chain link points
    // elsewhere without hashing into the translation cache. 4 k entries cover a kernel's hot set at 32 KiB per hart.
    private const int JumpCacheMask = 4095;

    private readonly CompiledBlock?[] _jumpCache = new CompiledBlock?[JumpCacheMask + 1];
    private TranslationCache? _translations;
    private long _chainedExits;
    private long _jumpCacheHits;
    private long _translatedInstructions;
    private long _interpretedInstructions;
    private long _compileTicks;

    // Instructions attempted by compiled blocks that chained to another block inside compiled code (BlockTranslator's
    // EmitChain): the block that finally returns reports only its own, so the dispatcher adds and clears this.
    private int _chainCarry;
    private long _chainedInCode;

    /// <summary>
    /// How <see cref="Run"/> executes guest code. Set it while the hart is not running. A bare hart starts as the
    /// reference interpreter; machines take their engine from <c>MachineConfiguration.CpuEngine</c>.
    /// </summary>
    public CpuEngine Engine { get; set; } = CpuEngine.Interpreter;

    /// <summary>
    /// Times a block runs in the interpreter before the JIT compiles it (0: compile on first sight). Compiling a block
    /// costs milliseconds of RyuJIT time, worth about a million interpreted instructions, so only blocks that run
    /// often pay back: measured on a Linux boot, 16 spent 36 s compiling 11 k blocks in the first 0.7 G instructions,
    /// 1000 spent 6 s on 1.8 k blocks in 0.9 G and still ran 89 % of instructions compiled.
    /// </summary>
    public int JitHotThreshold { get; set; } = DefaultJitHotThreshold;

    /// <summary>
    /// Hot blocks go to the <see cref="BackgroundCompiler"/> and keep running in the interpreter until their code is
    /// ready (true, the default), or compile on this thread when they turn hot (false: deterministic, for tests).
    /// A <see cref="JitHotThreshold"/> of 0 always compiles on this thread.
    /// </summary>
    public bool JitCompilesInBackground { get; set; } = true;

    /// <summary>The default <see cref="JitHotThreshold"/>.</summary>
    public const int DefaultJitHotThreshold = 1000;

    /// <summary>Counters of the JIT since this hart was created, for <c>--stats</c> and benchmarks.</summary>
    public JitStatistics JitStatistics => new(
        _translations?.Compiled ?? 0,
        _translations?.Evicted ?? 0,
        _translations?.Invalidated ?? 0,
        _translations?.CountCompiled() ?? 0,
        _translatedInstructions,
        _interpretedInstructions,
        Stopwatch.GetElapsedTime(0, _compileTicks),
        _chainedExits,
        _jumpCacheHits,
        _chainedInCode);

    /// <summary>
    /// Called from translated code for an instruction it leaves to the interpreter (atomics, carry-less multiplies,
    /// and F/D instructions that trap: FS Off, an invalid dynamic rounding mode).
    /// </summary>
    internal void InterpretOneForJit() => RunBlock(1);

    /// <summary>Executes up to about <paramref name="limit"/> instructions through the translation cache.</summary>
    /// <remarks>
    /// Entered again after every SYSTEM instruction, trap and fetch-TLB miss, so the 1.3 KB scratch is not zeroed
    /// (Scan writes every entry it hands out).
    /// </remarks>
    [SkipLocalsInit]
    private long RunTranslated(long limit)
    {
        TranslationCache cache = _translations ??= new TranslationCache();
        Span<DecodedInstruction> scratch = stackalloc DecodedInstruction[BlockTranslator.MaxInstructions];
        CompiledBlock?[] jumpCache = _jumpCache;
        CompiledBlock? previous = null;
        long executed = 0;
        while (executed < limit)
        {
            ulong pc = Pc;
            ref TlbEntry fe = ref _fetchTlb[(int)((pc >> 12) & TlbMask)];
            if (fe.Tag != pc >> 12)
            {
                // The interpreter walks the page table (filling the fetch TLB) or takes the fetch fault.
                return executed + Interpret(1);
            }

            nint host = (nint)(long)(pc + (ulong)fe.HostDelta);
            long remaining = limit - executed;

            // Chaining: the previous block's last successor, else the jump cache (indirect jumps, and the first block
            // of this call), both checked against the pc and the fetch host address the TLB gives now. The loop
            // condition and the budget check stay, so Run still sees interrupts as often as without chaining.
            CompiledBlock? chained = previous?.Next;
            if (chained is null || !chained.Matches(pc, host))
            {
                chained = jumpCache[JumpCacheIndex(pc)];
                if (chained is not null && !chained.Matches(pc, host))
                {
                    chained = null;
                }
                else if (chained is not null)
                {
                    _jumpCacheHits++;
                    if (previous is not null)
                    {
                        previous.Next = chained;
                    }
                }
            }
            else
            {
                _chainedExits++;
            }

            if (chained is not null && chained.Instructions <= remaining)
            {
                int ran = chained.Function(this, _x, (int)Math.Min(remaining, int.MaxValue));
                int carried = TakeChainCarry();
                if (ran >= 0 || carried > 0)
                {
                    // A block it chained to inside compiled code may have been the one whose code changed: pc is
                    // that block's, and the lookup at the top of the loop finds and drops it.
                    executed += CountTranslated(ran, carried);
                    previous = carried > 0 ? null : chained;
                    continue;
                }

                // Its guest code changed: the lookup below finds its slot, runs it again and drops it.
            }

            previous = null;
            ref TranslationSlot slot = ref cache.Find(pc, host, out bool found);
            if (!found)
            {
                slot.Instructions = BlockTranslator.Scan(pc, (byte*)host, scratch, out _);
            }

            if (slot.Instructions == 0)
            {
                // A SYSTEM instruction, FENCE.I, an illegal word or one crossing the page: leave the loop after it.
                return executed + Interpret(1);
            }

            if (slot.Instructions > remaining)
            {
                // Keep the budget exact: the caller asked for no more than this.
                return executed + Interpret(remaining);
            }

            BlockFunction? code = slot.Code?.Function;
            long compileStart = 0;
            if (code is null)
            {
                if (slot.Pending is { } pending)
                {
                    code = pending.Code;
                    if (code is null)
                    {
                        if (pending.Failed)
                        {
                            slot.Pending = null;
                            slot.Heat = int.MinValue; // never offered again: the interpreter runs it
                        }

                        goto interpret; // still compiling: no stall, the interpreter runs it meanwhile
                    }

                    slot.Code = new CompiledBlock(pc, host, pending.Block.Length, code);
                    slot.Pending = null;
                    cache.RecordCompiled();
                    _compileTicks += pending.CompileTicks;
                }
                else if (slot.Heat++ < JitHotThreshold)
                {
                    goto interpret;
                }
                else
                {
                    int count = BlockTranslator.Scan(pc, (byte*)host, scratch, out int length);
                    slot.Instructions = count;
                    if (count == 0 || count > remaining)
                    {
                        continue;
                    }

                    if (JitCompilesInBackground && JitHotThreshold > 0)
                    {
                        // Copies taken now: the compiler thread never reads guest RAM, and the block's code check
                        // compares against exactly the bytes these instructions were decoded from.
                        var request = new PendingTranslation(pc, host, new ReadOnlySpan<byte>((byte*)host, length).ToArray(), scratch[..count].ToArray());
                        if (BackgroundCompiler.Shared.TryQueue(request))
                        {
                            slot.Pending = request;
                        }
                        else
                        {
                            slot.Heat = JitHotThreshold / 2; // queue full: offer it again after more runs
                        }

                        goto interpret;
                    }

                    compileStart = Stopwatch.GetTimestamp();
                    code = BlockTranslator.Compile(pc, (byte*)host, scratch[..count], length);
                    slot.Code = new CompiledBlock(pc, host, count, code);
                    cache.RecordCompiled();
                }
            }

            int done = code(this, _x, (int)Math.Min(remaining, int.MaxValue));
            if (compileStart != 0)
            {
                // The first call includes RyuJIT compiling the IL.
                _compileTicks += Stopwatch.GetTimestamp() - compileStart;
            }

            int carry = TakeChainCarry();
            if (carry > 0)
            {
                // It ran and chained on inside compiled code; pc is past the last block (or at one whose code changed).
                executed += CountTranslated(done, carry);
                if (slot.Code is { } first)
                {
                    jumpCache[JumpCacheIndex(pc)] = first;
                }

                continue;
            }

            if (done < 0)
            {
                cache.RecordInvalidated(ref slot);
                slot.Pending = null;
                slot.Instructions = BlockTranslator.Scan(pc, (byte*)host, scratch, out _);
                continue;
            }

            executed += CountTranslated(done, 0);
            if (slot.Code is { } compiled)
            {
                jumpCache[JumpCacheIndex(pc)] = compiled;
                previous = compiled;
            }

            continue;

        interpret:
            if (!InterpretBlock(slot.Instructions, ref executed))
            {
                return executed; // it trapped or left the block: let Run look at interrupts
            }
        }

        return executed;
    }

    /// <summary>
    /// Called by a compiled block's normal exit (BlockTranslator's EmitChain) after it wrote everything back and set pc:
    /// the compiled block at pc to enter next, or null to return to the dispatcher. The block must be the jump
    /// cache's entry for pc, live, fit in the rest of <paramref name="budget"/>, and be where the fetch TLB maps pc now
    /// (the dispatcher's own checks). On success the <paramref name="attempted"/> instructions move to the chain carry.
    /// </summary>
    internal CompiledBlock? ChainTarget(int attempted, int budget)
    {
        ulong pc = Pc;
        CompiledBlock? next = _jumpCache[JumpCacheIndex(pc)];
        ref TlbEntry fe = ref _fetchTlb[(int)((pc >> 12) & TlbMask)];
        if (next is null || fe.Tag != pc >> 12 || !next.Matches(pc, (nint)(long)(pc + (ulong)fe.HostDelta))
            || next.Instructions > budget - attempted)
        {
            return null;
        }

        _chainCarry += attempted;
        _chainedInCode++;
        return next;
    }

    private static int JumpCacheIndex(ulong pc) => (int)(pc >> 1) & JumpCacheMask;

    /// <summary>
    /// The instructions compiled code attempted in one dispatcher call: what the last block returned (-1, code changed,
    /// counts nothing) plus what the blocks before it in an in-code chain carried.
    /// </summary>
    private long CountTranslated(int returned, int carried)
    {
        long attempted = carried + Math.Max(returned, 0);
        _translatedInstructions += attempted;
        return attempted;
    }

    private int TakeChainCarry()
    {
        int carried = _chainCarry;
        _chainCarry = 0;
        return carried;
    }

    /// <summary>Runs a not yet compiled block in the interpreter; false when it stopped early (a trap, a jump out).</summary>
    private bool InterpretBlock(int instructions, ref long executed)
    {
        long ran = Interpret(instructions);
        executed += ran;
        return ran == instructions;
    }

    private long Interpret(long count)
    {
        long ran = RunBlock(count);
        _interpretedInstructions += ran;
        return ran;
    }
}
