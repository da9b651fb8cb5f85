namespace Vessel.RiscV.Tests.Jit;

/// <summary>
/// Runs random programs (<see cref="RandomProgram"/>) on two harts, one interpreting and one with the JIT, in
/// random slices of a few instructions and compares the whole architectural state after every slice: pc,
/// integer and float registers, instret, the trap CSRs, mstatus, fflags and the data memory.
/// </summary>
public sealed class JitDifferentialTests
{
    public static TheoryData<int, int> Seeds()
    {
        var data = new TheoryData<int, int>();
        for (int seed = 1; seed <= 40; seed++)
        {
            data.Add(seed, seed % 3 == 0 ? 2 : 0);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomProgramsMatchTheInterpreter(int seed, int hotThreshold)
    {
        var (interpreted, translated) = RunBoth(seed, hotThreshold, background: false);
        using (interpreted)
        using (translated)
        {
            Assert.True(translated.Hart.JitStatistics.BlocksCompiled > 0, "the JIT compiled nothing");
            Assert.True(translated.Hart.JitStatistics.TranslatedInstructions > 0, "no compiled block ran");
        }
    }

    /// <summary>
    /// With the compiler thread, which blocks are compiled when depends on timing; the state after every slice
    /// must not (blocks switch from the interpreter to compiled code at arbitrary lookups).
    /// </summary>
    [Theory]
    [InlineData(101)]
    [InlineData(102)]
    [InlineData(103)]
    [InlineData(104)]
    [InlineData(105)]
    [InlineData(106)]
    public void RandomProgramsMatchTheInterpreterWhileCompilingInBackground(int seed)
    {
        var (interpreted, translated) = RunBoth(seed, hotThreshold: 1, background: true);
        interpreted.Dispose();
        translated.Dispose();
    }

    /// <summary>The random programs' jumps and branches reach blocks through chain links and the jump cache too.</summary>
    [Fact]
    public void RandomProgramsEnterBlocksThroughChainsAndTheJumpCache()
    {
        long chained = 0, jumpCache = 0;
        for (int seed = 1; seed <= 10; seed++)
        {
            var (interpreted, translated) = RunBoth(seed, hotThreshold: 0, background: false);
            chained += translated.Hart.JitStatistics.ChainedBlocks;
            jumpCache += translated.Hart.JitStatistics.JumpCacheHits;
            interpreted.Dispose();
            translated.Dispose();
        }

        Assert.True(chained > 0, "no block was entered through a chain link");
        Assert.True(jumpCache > 0, "no block was entered through the jump cache");
    }

    private static (TestMachine Interpreted, TestMachine Translated) RunBoth(int seed, int hotThreshold, bool background)
    {
        var program = new RandomProgram(seed, 160);
        var twin = new RandomProgram(seed, 160);
        var interpreted = Prepare(program, CpuEngine.Interpreter, hotThreshold);
        var translated = Prepare(twin, CpuEngine.Jit, hotThreshold);
        translated.Hart.JitCompilesInBackground = background;
        Assert.Equal(program.EndPc, twin.EndPc);

        var slices = new Random(seed * 7919);
        long total = 0;
        while (total < 20_000 && interpreted.Hart.Pc != program.EndPc)
        {
            int slice = slices.Next(1, 200);
            interpreted.Hart.Run(slice);
            translated.Hart.Run(slice);
            total += slice;
            AssertSameState(interpreted, translated, $"seed {seed}, after {total} instructions");
        }

        Assert.Equal(program.EndPc, interpreted.Hart.Pc);
        return (interpreted, translated);
    }

    private static TestMachine Prepare(RandomProgram program, CpuEngine engine, int hotThreshold)
    {
        var machine = new TestMachine();
        program.Load(machine.Memory);
        for (int r = 1; r < 32; r++)
        {
            machine.Hart.SetRegister(r, program.InitialRegisters[r]);
        }

        machine.Hart.Pc = RandomProgram.CodeBase;
        Assert.True(machine.Hart.TryWriteCsr(0x305, RandomProgram.HandlerBase));
        Assert.True(machine.Hart.TryWriteCsr(0x300, StatusBits.Fs)); // F/D on
        machine.Hart.Engine = engine;
        machine.Hart.JitHotThreshold = hotThreshold;
        return machine;
    }

    private static void AssertSameState(TestMachine expected, TestMachine actual, string where)
    {
        Hart e = expected.Hart, a = actual.Hart;
        Assert.True(e.Pc == a.Pc, $"{where}: pc 0x{a.Pc:x}, interpreter 0x{e.Pc:x}");
        Assert.True(e.InstructionsRetired == a.InstructionsRetired, $"{where}: instret {a.InstructionsRetired}, interpreter {e.InstructionsRetired}");
        Assert.Equal(e.Privilege, a.Privilege);
        for (int r = 1; r < 32; r++)
        {
            Assert.True(e.GetRegister(r) == a.GetRegister(r), $"{where}: x{r} = 0x{a.GetRegister(r):x}, interpreter 0x{e.GetRegister(r):x}");
        }

        for (int r = 0; r < 32; r++)
        {
            Assert.True(e.GetFloatRegister(r) == a.GetFloatRegister(r), $"{where}: f{r} = 0x{a.GetFloatRegister(r):x}, interpreter 0x{e.GetFloatRegister(r):x}");
        }

        foreach (int csr in new[] { 0x300, 0x341, 0x342, 0x343, 0x001, 0x002, 0xB00, 0xB02 })
        {
            Assert.True(e.TryReadCsr(csr, out ulong ev));
            Assert.True(a.TryReadCsr(csr, out ulong av));
            Assert.True(ev == av, $"{where}: CSR 0x{csr:x} = 0x{av:x}, interpreter 0x{ev:x}");
        }

        var expectedData = expected.Memory.GetSpan(RandomProgram.DataBase, RandomProgram.DataSize);
        var actualData = actual.Memory.GetSpan(RandomProgram.DataBase, RandomProgram.DataSize);
        Assert.True(expectedData.SequenceEqual(actualData), $"{where}: data memory differs");
    }
}
