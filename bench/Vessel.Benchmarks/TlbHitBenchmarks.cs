using BenchmarkDotNet.Attributes;
using Vessel.Machine.Abstractions;
using Vessel.RiscV;
using static Vessel.Benchmarks.RiscVEncoding;

namespace Vessel.Benchmarks;

/// <summary>
/// Loads and stores through the software TLB: S-mode with Sv39 on, code and data in one 1 GiB page (privileged spec
/// 4.4), so after the first walk every access is a TLB hit — the compare-and-add fast path.
/// </summary>
[MemoryDiagnoser]
public class TlbHitBenchmarks
{
    public const int Instructions = 1_000_000;
    private const ulong RamBase = 0x8000_0000;
    private const ulong RootTable = RamBase + 0x1000;
    private const ulong Data = RamBase + 0x8000;

    private GuestMemory _memory = null!;
    private Hart _hart = null!;

    [GlobalSetup]
    public void Setup()
    {
        _memory = new GuestMemory(RamBase, 1 << 20);
        _hart = new Hart(0, _memory, new NoDevicesBus(), new MachineClock(deterministic: true));

        // Root entry 2 maps VA 0x8000_0000 (VPN[2] = 2) to PA 0x8000_0000 as a 1 GiB leaf: V R W X A D.
        const ulong leafFlags = 1 | 2 | 4 | 8 | 64 | 128;
        _memory.WriteUInt64(RootTable + (2 * 8), ((RamBase >> 12) << 10) | leafFlags);

        // x10 = Data (set below); loop: ld, ld, sd, addi, ld, sd, jal back.
        uint[] loop = [Ld(5, 10, 0), Ld(6, 10, 64), Sd(5, 10, 128), Addi(5, 5, 1), Ld(7, 10, 256), Sd(7, 10, 512), Jal(0, -24)];
        for (int i = 0; i < loop.Length; i++)
        {
            _memory.WriteUInt32(RamBase + (ulong)(4 * i), loop[i]);
        }

        _hart.SetRegister(10, Data);
        _hart.TryWriteCsr(CsrAddress.Satp, (8UL << 60) | (RootTable >> 12));
        _hart.SetPrivilegeLevel(PrivilegeLevel.Supervisor);
        _hart.Pc = RamBase;
    }

    [GlobalCleanup]
    public void Cleanup() => _memory.Dispose();

    /// <summary>One million instructions, four in seven of them loads or stores that hit the TLB.</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    public HartRunResult LoadStoreLoop() => _hart.Run(Instructions);
}
