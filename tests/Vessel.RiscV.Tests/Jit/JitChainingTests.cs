using Vessel.RiscV.Jit;
using static Vessel.RiscV.Tests.InstructionEncoder;

namespace Vessel.RiscV.Tests.Jit;

/// <summary>
/// Block chaining and the jump cache (issue 9): blocks entered without a translation cache lookup still stop at the
/// budget, still see modified code, and leave the same state as the interpreter.
/// </summary>
public sealed unsafe class JitChainingTests
{
    // Two blocks that jump to each other: 0: addi x1; 4: jal 16; 16: addi x2; 20: jal 0. Four instructions a turn.
    private static readonly uint[] PingPong = [Addi(1, 1, 1), Jal(0, 12), Nop, Nop, Addi(2, 2, 1), Jal(0, -20)];

    // One function called from two sites, so its return (jalr) goes to a different block each time:
    // 0: jal ra, f; 4: addi x3; 8: jal ra, f; 12: addi x4; 16: jal 0; 20: -; 24 (f): addi x2; 28: jalr x0, ra.
    private static readonly uint[] TwoCallSites =
        [Jal(1, 24), Addi(3, 3, 1), Jal(1, 16), Addi(4, 4, 1), Jal(0, -16), Nop, Addi(2, 2, 1), Jalr(0, 1, 0)];

    private static uint Nop => Addi(0, 0, 0);

    /// <summary>jal rd, offset (J-type, RISC-V unprivileged spec §2.5.1).</summary>
    private static uint Jal(int rd, int offset) =>
        0x6Fu | ((uint)rd << 7) | ((uint)offset & 0xFF000) | (((uint)offset >> 11 & 1) << 20) |
        (((uint)offset >> 1 & 0x3FF) << 21) | (((uint)offset >> 20 & 1) << 31);

    private static uint Jalr(int rd, int rs1, int offset) => I(0x67, rd, 0, rs1, offset);

    private static TestMachine Machine(CpuEngine engine, uint[] program)
    {
        var machine = new TestMachine();
        machine.Hart.Engine = engine;
        machine.Hart.JitHotThreshold = 0;
        machine.Hart.JitCompilesInBackground = false;
        machine.Load(TestMachine.RamBase, program);
        machine.Hart.Pc = TestMachine.RamBase;
        return machine;
    }

    private static void AssertSameState(TestMachine expected, TestMachine actual)
    {
        Assert.Equal(expected.Hart.Pc, actual.Hart.Pc);
        Assert.Equal(expected.Hart.InstructionsRetired, actual.Hart.InstructionsRetired);
        for (int r = 1; r < 32; r++)
        {
            Assert.Equal(expected.X(r), actual.X(r));
        }
    }

    [Fact]
    public void ChainedBlocksRunWithoutLookupsAndMatchTheInterpreter()
    {
        using var jit = Machine(CpuEngine.Jit, PingPong);
        using var reference = Machine(CpuEngine.Interpreter, PingPong);
        jit.Hart.Run(4000);
        reference.Hart.Run(4000);

        AssertSameState(reference, jit);
        Assert.Equal(1000UL, jit.X(1));
        Assert.Equal(1000UL, jit.X(2));
        Assert.True(jit.Hart.JitStatistics.ChainedInCode > 1500, $"only {jit.Hart.JitStatistics.ChainedInCode} blocks chained in compiled code");
    }

    [Fact]
    public void AChainedLoopStopsExactlyAtTheBudget()
    {
        using var jit = Machine(CpuEngine.Jit, PingPong);
        jit.Hart.Run(1001);
        Assert.Equal(1001UL, jit.Hart.InstructionsRetired);
        Assert.Equal(251UL, jit.X(1));
        Assert.Equal(250UL, jit.X(2));
        Assert.Equal(TestMachine.RamBase + 4, jit.Hart.Pc);
    }

    [Fact]
    public void ABlockReachedByAChainSeesItsModifiedCode()
    {
        using var jit = Machine(CpuEngine.Jit, PingPong);
        jit.Hart.Run(4000);
        Assert.True(jit.Hart.JitStatistics.ChainedInCode > 0);

        // The successor's bytes change under the link (no fence.i, as DMA or another hart would write them).
        jit.Load(TestMachine.RamBase + 16, Addi(2, 2, 100));
        jit.Hart.Run(4000);

        Assert.Equal(2000UL, jit.X(1));
        Assert.Equal(1000UL + (1000UL * 100), jit.X(2));
        Assert.Equal(1, jit.Hart.JitStatistics.BlocksInvalidated);
    }

    [Fact]
    public void ReturnsToChangingCallSitesGoThroughTheJumpCache()
    {
        using var jit = Machine(CpuEngine.Jit, TwoCallSites);
        using var reference = Machine(CpuEngine.Interpreter, TwoCallSites);
        jit.Hart.Run(9000);
        reference.Hart.Run(9000);

        AssertSameState(reference, jit);
        Assert.Equal(2000UL, jit.X(2));
        Assert.Equal(1000UL, jit.X(3));
        Assert.Equal(1000UL, jit.X(4));
        // Compiled returns chain through the jump cache themselves; the dispatcher uses it when they cannot.
        var stats = jit.Hart.JitStatistics;
        Assert.True(stats.ChainedInCode + stats.JumpCacheHits > 1000, $"only {stats.ChainedInCode} + {stats.JumpCacheHits} jump cache entries");
    }

    [Fact]
    public void AnEvictedBlockIsRetiredAndDropsItsLink()
    {
        var cache = new TranslationCache(sets: 1);
        BlockFunction code = static (_, _, _) => 0;
        var blocks = new CompiledBlock[3];
        for (int i = 0; i < 3; i++)
        {
            ulong pc = TestMachine.RamBase + (ulong)(4 * i);
            ref var slot = ref cache.Find(pc, (nint)pc, out _);
            blocks[i] = new CompiledBlock(pc, (nint)pc, 1, code);
            slot.Code = blocks[i];
            if (i > 0)
            {
                blocks[i - 1].Next = blocks[i];
            }
        }

        Assert.True(blocks[0].Retired, "the least recently used block was not retired");
        Assert.Null(blocks[0].Next);
        Assert.False(blocks[1].Retired);
        Assert.Same(blocks[2], blocks[1].Next);
    }
}
