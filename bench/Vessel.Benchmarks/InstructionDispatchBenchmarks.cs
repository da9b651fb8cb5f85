using BenchmarkDotNet.Attributes;
using Vessel.Machine.Abstractions;
using Vessel.RiscV;
using static Vessel.Benchmarks.RiscVEncoding;

namespace Vessel.Benchmarks;

/// <summary>
/// The interpreter's decode-and-dispatch loop (DESIGN.md §4): a tight M-mode loop of ALU instructions and a jump,
/// with paging off, so each instruction is a fetch from the decode cache, a switch arm and a register write.
/// </summary>
[MemoryDiagnoser]
public class InstructionDispatchBenchmarks
{
    public const int Instructions = 1_000_000;
    private const ulong RamBase = 0x8000_0000;

    private GuestMemory _memory = null!;
    private Hart _hart = null!;

    [GlobalSetup]
    public void Setup()
    {
        _memory = new GuestMemory(RamBase, 1 << 20);
        _hart = new Hart(0, _memory, new NoDevicesBus(), new MachineClock(deterministic: true));
        uint[] loop = [Addi(1, 1, 1), Xor(2, 2, 1), Slli(3, 2, 3), Add(4, 4, 3), Xori(5, 4, 0x55), Addi(6, 6, -1), Add(7, 5, 6), Jal(0, -28)];
        for (int i = 0; i < loop.Length; i++)
        {
            _memory.WriteUInt32(RamBase + (ulong)(4 * i), loop[i]);
        }

        _hart.Pc = RamBase;
    }

    [GlobalCleanup]
    public void Cleanup() => _memory.Dispose();

    /// <summary>One million instructions; divide the time by 10^6 for the cost of one.</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public HartRunResult AluLoop() => _hart.Run(Instructions);
}
