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
