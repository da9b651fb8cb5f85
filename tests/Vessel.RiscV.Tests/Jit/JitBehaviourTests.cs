using Vessel.RiscV.Decoding;
using Vessel.RiscV.Jit;
using static Vessel.RiscV.Tests.InstructionEncoder;

namespace Vessel.RiscV.Tests.Jit;

/// <summary>What the JIT guarantees beyond matching the interpreter on random code: modified code, budgets, bounded memory.</summary>
public sealed unsafe class JitBehaviourTests
{
    private const uint JumpToSelf = 0x0000006F; // jal x0, 0

    private static TestMachine JitMachine()
    {
        var machine = new TestMachine();
        machine.Hart.Engine = CpuEngine.Jit;
        machine.Hart.JitHotThreshold = 0;
        return machine;
    }

    [Fact]
    public void CodeWrittenAfterTranslationRunsTheNewInstructions()
    {
        using var m = JitMachine();
        m.Load(TestMachine.RamBase, Addi(1, 1, 1), JumpToSelf);
        for (int run = 0; run < 2; run++)
        {
            // The first run fills the fetch TLB in the interpreter; the second runs the compiled block.
            m.Hart.Pc = TestMachine.RamBase;
            m.Hart.Run(2);
        }

        Assert.Equal(2UL, m.X(1));
        Assert.Equal(TestMachine.RamBase + 4, m.Hart.Pc);
        Assert.Equal(2, m.Hart.JitStatistics.BlocksCompiled); // this block and the jump-to-self

        // As another hart or a DMA would: no fence.i, no hook, just new bytes in RAM.
        m.Load(TestMachine.RamBase, Addi(1, 1, 100));
        m.Hart.Pc = TestMachine.RamBase;
        m.Hart.Run(2);
        Assert.Equal(102UL, m.X(1));
        Assert.Equal(1, m.Hart.JitStatistics.BlocksInvalidated);
    }

    [Fact]
    public void AFloatLoopRunsCompiledAndMatchesTheInterpreter()
    {
        // x1 counts down; each pass: fld, fmadd.d (dynamic rm), fadd.d, fcvt.d.l, fsqrt.s of an unboxed value, fsd.
        const ulong data = TestMachine.RamBase + 0x1000;
        uint fmadd = 0x43u | (2u << 7) | (7u << 12) | (1u << 15) | (1u << 20) | (1u << 25) | (2u << 27);
        uint[] program =
        [
            I(0x07, 1, 3, 5, 0),        // fld f1, 0(x5)
            fmadd,                      // fmadd.d f2, f1, f1, f2
            R(0x53, 3, 0, 3, 2, 0x01),  // fadd.d f3, f3, f2 (rne)
            R(0x53, 4, 7, 1, 2, 0x69),  // fcvt.d.l f4, x1
            R(0x53, 6, 7, 4, 0, 0x2C),  // fsqrt.s f6, f4: f4 is not NaN-boxed, so it reads as the canonical NaN
            S(0x27, 3, 5, 3, 8),        // fsd f3, 8(x5)
            Addi(1, 1, -1),
            B(1, 1, 0, -28),            // bne x1, x0, start
            JumpToSelf,
        ];
        var results = new List<(ulong F3, ulong F6, ulong Fflags, ulong Mstatus, ulong Stored, long Instret)>();
        foreach (var engine in new[] { CpuEngine.Interpreter, CpuEngine.Jit })
        {
            using var m = new TestMachine();
            m.Hart.Engine = engine;
            m.Hart.JitHotThreshold = 0;
            m.Hart.JitCompilesInBackground = false;
            m.Load(TestMachine.RamBase, program);
            m.Load(data, 0x9999999A, 0x3FF19999); // 1.1
            Assert.True(m.Hart.TryWriteCsr(0x300, 1UL << 13)); // FS = Initial: the first F/D write makes it Dirty
            Assert.True(m.Hart.TryWriteCsr(0x002, 3)); // frm = RUP
            m.Hart.SetRegister(1, 1000);
            m.Hart.SetRegister(5, data);
            m.Hart.Pc = TestMachine.RamBase;
            while (m.Hart.Pc != TestMachine.RamBase + 32)
            {
                m.Hart.Run(500);
            }

            Assert.True(m.Hart.TryReadCsr(0x001, out ulong fflags));
            ulong stored = BitConverter.ToUInt64(m.Memory.GetSpan(data + 8, 8));
            results.Add((m.Hart.GetFloatRegister(3), m.Hart.GetFloatRegister(6), fflags, m.Hart.Mstatus, stored, (long)m.Hart.InstructionsRetired));
            if (engine == CpuEngine.Jit)
            {
                Assert.True(m.Hart.JitStatistics.TranslatedInstructions > 7000, $"only {m.Hart.JitStatistics.TranslatedInstructions} instructions ran compiled");
            }

            Assert.Equal(3UL << 13, m.Hart.Mstatus & (3UL << 13));
        }

        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void AHotLoopSwitchesToBackgroundCompiledCodeWithoutLosingCount()
    {
        using var m = new TestMachine();
        m.Hart.Engine = CpuEngine.Jit;
        m.Hart.JitHotThreshold = 1;
        m.Hart.JitCompilesInBackground = true;
        m.Load(TestMachine.RamBase, Addi(1, 1, 1), 0xFFDFF06F); // loop: addi x1, x1, 1; jal x0, -4
        m.Hart.Pc = TestMachine.RamBase;

        // The hart never waits: it interprets the loop until the compiler thread's code turns up at a lookup.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long slices = 0;
        while (m.Hart.JitStatistics.TranslatedInstructions == 0 && DateTime.UtcNow < deadline)
        {
            m.Hart.Run(100);
            slices++;
        }

        Assert.True(m.Hart.JitStatistics.TranslatedInstructions > 0, "the background compile never arrived");
        Assert.True(m.Hart.JitStatistics.BlocksCompiled >= 1);
        Assert.Equal((ulong)(slices * 100), m.Hart.InstructionsRetired);
        Assert.Equal((ulong)(slices * 50), m.X(1));
        Assert.Equal(TestMachine.RamBase, m.Hart.Pc);
    }

    [Fact]
    public void AHotLoopStopsExactlyAtTheBudget()
    {
        using var m = JitMachine();
        m.Load(TestMachine.RamBase, Addi(1, 1, 1), 0xFFDFF06F); // loop: addi x1, x1, 1; jal x0, -4
        m.Hart.Pc = TestMachine.RamBase;
        m.Hart.Run(1001);
        Assert.Equal(1001UL, m.Hart.InstructionsRetired);
        Assert.Equal(501UL, m.X(1));
        Assert.Equal(TestMachine.RamBase + 4, m.Hart.Pc);
        Assert.True(m.Hart.JitStatistics.TranslatedInstructions >= 900, "the loop should run compiled");
    }

    [Fact]
    public void TheTranslationCacheEvictsInsteadOfGrowing()
    {
        var cache = new TranslationCache(sets: 4);
        BlockFunction dummy = static (_, _, _) => 0;
        for (int i = 0; i < 100; i++)
        {
            ulong pc = TestMachine.RamBase + (ulong)(4 * i);
            ref var slot = ref cache.Find(pc, (nint)pc, out bool found);
            Assert.False(found);
            slot.Code = new CompiledBlock(pc, (nint)pc, 1, dummy);
        }

        Assert.Equal(8, cache.Capacity);
        Assert.Equal(8, cache.CountCompiled());
        Assert.Equal(92, cache.Evicted);
    }

    [Fact]
    public void TheSamePcFetchedFromAnotherPageIsAnotherBlock()
    {
        // A satp switch or remap changes the host address behind a pc; the cache key includes it.
        var cache = new TranslationCache(sets: 4);
        ref var first = ref cache.Find(0x1000, 0x7000, out _);
        first.Code = new CompiledBlock(0x1000, 0x7000, 1, static (_, _, _) => 0);
        cache.Find(0x1000, 0x9000, out bool foundRemapped);
        Assert.False(foundRemapped);
        cache.Find(0x1000, 0x7000, out bool foundOriginal);
        Assert.True(foundOriginal);
    }

    [Fact]
    public void ABlockBeingCompiledInTheBackgroundIsNotPushedOutByColdCode()
    {
        var cache = new TranslationCache(sets: 1);
        ref var hot = ref cache.Find(TestMachine.RamBase, 0x7000, out _);
        hot.Pending = new PendingTranslation(TestMachine.RamBase, 0x7000, [0x13, 0, 0, 0], new DecodedInstruction[1]);
        for (int i = 1; i <= 10; i++)
        {
            cache.Find(TestMachine.RamBase + (ulong)(4 * i), 0x7000 + (4 * i), out _); // code that runs once
        }

        ref var again = ref cache.Find(TestMachine.RamBase, 0x7000, out bool found);
        Assert.True(found, "the pending block was evicted by cold blocks");
        Assert.NotNull(again.Pending);
    }
}
