using static Vessel.RiscV.Tests.InstructionEncoder;

namespace Vessel.RiscV.Tests;

/// <summary>Sv39/Sv48 page-table walk corner cases (privileged spec 4.3–4.5).</summary>
public sealed class PagingTests : IDisposable
{
    private const ulong V = 1, R = 2, W = 4, X = 8, U = 16, A = 64, D = 128;
    private const ulong Code = TestMachine.RamBase;           // identity-mapped, S-mode executable
    private const ulong Root = TestMachine.RamBase + 0x10000;
    private const ulong DataPa = TestMachine.RamBase + 0x40000;
    private const ulong DataVa = 0x1000_0000;                  // VPN2 = 0, VPN1 = 0x80, VPN0 = 0
    private const ulong Handler = TestMachine.RamBase + 0x800;

    private readonly TestMachine _m = new();
    private ulong _nextTable = Root + 0x1000;

    public PagingTests()
    {
        _m.Memory.WriteUInt64(DataPa, 0x1122_3344_5566_7788);
        Map(Code, Code, R | W | X | A | D);
        _m.Hart.TryWriteCsr(CsrAddress.Mtvec, Handler);
    }

    public void Dispose() => _m.Dispose();

    private ulong Pte(ulong pa, ulong flags) => ((pa >> 12) << 10) | flags | V;

    /// <summary>Maps one page at <paramref name="level"/> (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB) in the Sv39 table at Root.</summary>
    private ulong Map(ulong va, ulong pa, ulong flags, int level = 0, int levels = 3)
    {
        ulong table = Root;
        for (int l = levels - 1; l > level; l--)
        {
            ulong entry = table + (((va >> (12 + (9 * l))) & 511) * 8);
            ulong pte = _m.Memory.ReadUInt64(entry);
            if ((pte & V) == 0)
            {
                pte = Pte(_nextTable, 0);
                _nextTable += 0x1000;
                _m.Memory.WriteUInt64(entry, pte);
            }

            table = (pte >> 10) << 12;
        }

        ulong leaf = table + (((va >> (12 + (9 * level))) & 511) * 8);
        _m.Memory.WriteUInt64(leaf, flags == 0 ? 0 : Pte(pa, flags));
        return leaf;
    }

    /// <summary>Runs <paramref name="program"/> at Code in <paramref name="mode"/> with Sv39 on; returns true if it trapped.</summary>
    private bool RunPaged(PrivilegeLevel mode, ulong mstatusBits, params uint[] program)
    {
        _m.Load(Code, program);
        _m.Hart.TryWriteCsr(CsrAddress.Satp, (8UL << 60) | (Root >> 12));
        _m.Hart.TryWriteCsr(CsrAddress.Mstatus, mstatusBits);
        _m.Hart.SetPrivilegeLevel(mode);
        _m.Hart.Pc = Code;
        _m.Hart.Run(program.Length);
        return _m.Hart.Pc == Handler;
    }

    private ulong LoadFrom(ulong va, PrivilegeLevel mode = PrivilegeLevel.Supervisor, ulong mstatusBits = 0)
    {
        _m.Hart.SetRegister(6, va);
        bool trapped = RunPaged(mode, mstatusBits, Ld(5, 6, 0));
        return trapped ? ulong.MaxValue : _m.X(5);
    }

    private void AssertFault(TrapCause cause, ulong tval)
    {
        Assert.Equal(Handler, _m.Hart.Pc);
        Assert.Equal((ulong)cause, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(tval, _m.Csr(CsrAddress.Mtval));
    }

    [Fact]
    public void MapsA4KPage()
    {
        Map(DataVa, DataPa, R | W | A | D);
        Assert.Equal(0x1122_3344_5566_7788UL, LoadFrom(DataVa));
    }

    [Fact]
    public void UserPageFromSupervisorFaultsWithoutSum()
    {
        Map(DataVa, DataPa, R | W | U | A | D);
        LoadFrom(DataVa + 8);
        AssertFault(TrapCause.LoadPageFault, DataVa + 8);
    }

    [Fact]
    public void UserPageFromSupervisorWorksWithSum()
    {
        Map(DataVa, DataPa, R | W | U | A | D);
        Assert.Equal(0x1122_3344_5566_7788UL, LoadFrom(DataVa, mstatusBits: StatusBits.Sum));
    }

    [Fact]
    public void SupervisorPageFromUserFaults()
    {
        Map(Code, Code, R | X | U | A | D);
        Map(DataVa, DataPa, R | W | A | D);
        LoadFrom(DataVa, PrivilegeLevel.User);
        AssertFault(TrapCause.LoadPageFault, DataVa);
    }

    [Fact]
    public void SupervisorCannotExecuteUserPagesEvenWithSum()
    {
        Map(Code, Code, R | X | U | A | D);
        RunPaged(PrivilegeLevel.Supervisor, StatusBits.Sum, Addi(1, 0, 1));
        AssertFault(TrapCause.InstructionPageFault, Code);
    }

    [Fact]
    public void ExecuteOnlyPageIsReadableOnlyWithMxr()
    {
        Map(DataVa, DataPa, X | A | D);
        LoadFrom(DataVa);
        AssertFault(TrapCause.LoadPageFault, DataVa);
        Assert.Equal(0x1122_3344_5566_7788UL, LoadFrom(DataVa, mstatusBits: StatusBits.Mxr));
    }

    [Fact]
    public void ReservedPteBitsFault()
    {
        ulong leaf = Map(DataVa, DataPa, R | W | A | D);
        _m.Memory.WriteUInt64(leaf, _m.Memory.ReadUInt64(leaf) | (1UL << 60));
        LoadFrom(DataVa);
        AssertFault(TrapCause.LoadPageFault, DataVa);
    }

    [Fact]
    public void WriteWithoutReadIsReserved()
    {
        Map(DataVa, DataPa, W | A | D);
        LoadFrom(DataVa);
        AssertFault(TrapCause.LoadPageFault, DataVa);
    }

    [Fact]
    public void MisalignedSuperpageFaults()
    {
        // A 2 MiB leaf whose PPN[0] is not zero.
        Map(DataVa, DataPa, R | W | A | D, level: 1);
        LoadFrom(DataVa);
        AssertFault(TrapCause.LoadPageFault, DataVa);
    }

    [Fact]
    public void AlignedSuperpageTranslatesTheOffset()
    {
        // 2 MiB page at VA 0x1000_0000 onto PA 0x8000_0000: offset 0x40000 lands on DataPa.
        Map(DataVa, TestMachine.RamBase, R | W | A | D, level: 1);
        Assert.Equal(0x1122_3344_5566_7788UL, LoadFrom(DataVa + 0x40000));
    }

    [Fact]
    public void NonCanonicalAddressFaults()
    {
        ulong va = 1UL << 38 | DataVa; // bit 38 set but bits 63:39 clear
        LoadFrom(va);
        AssertFault(TrapCause.LoadPageFault, va);
    }

    [Fact]
    public void HardwareSetsAccessedAndDirty()
    {
        ulong leaf = Map(DataVa, DataPa, R | W);
        LoadFrom(DataVa);
        Assert.Equal(A, _m.Memory.ReadUInt64(leaf) & (A | D));
        _m.Hart.SetRegister(6, DataVa);
        Assert.False(RunPaged(PrivilegeLevel.Supervisor, 0, Sd(0, 6, 0)));
        Assert.Equal(A | D, _m.Memory.ReadUInt64(leaf) & (A | D));
    }

    [Fact]
    public void StoreToReadOnlyPageIsAStorePageFault()
    {
        Map(DataVa, DataPa, R | A | D);
        _m.Hart.SetRegister(6, DataVa);
        RunPaged(PrivilegeLevel.Supervisor, 0, Sd(0, 6, 16));
        AssertFault(TrapCause.StorePageFault, DataVa + 16);
    }

    [Fact]
    public void SfenceVmaMakesANewMappingVisible()
    {
        ulong leaf = Map(DataVa, DataPa, R | W | A | D);
        Assert.Equal(0x1122_3344_5566_7788UL, LoadFrom(DataVa));
        _m.Memory.WriteUInt64(DataPa + 0x1000, 42);
        _m.Memory.WriteUInt64(leaf, Pte(DataPa + 0x1000, R | W | A | D));
        _m.Hart.SetRegister(6, DataVa);
        uint sfenceAll = 0x12000073;
        Assert.False(RunPaged(PrivilegeLevel.Supervisor, 0, sfenceAll, Ld(5, 6, 0)));
        Assert.Equal(42UL, _m.X(5));
    }

    [Fact]
    public void Sv48WalksFourLevels()
    {
        _m.Memory.GetSpan(Root, 0x1000).Clear();
        _nextTable = Root + 0x1000;
        Map(Code, Code, R | W | X | A | D, levels: 4);
        ulong va = 0x0000_4000_0000_0000; // needs the fourth level (bit 46)
        Map(va, DataPa, R | A | D, levels: 4);
        _m.Hart.SetRegister(6, va);
        _m.Load(Code, Ld(5, 6, 0));
        _m.Hart.TryWriteCsr(CsrAddress.Satp, (9UL << 60) | (Root >> 12));
        _m.Hart.SetPrivilegeLevel(PrivilegeLevel.Supervisor);
        _m.Hart.Pc = Code;
        _m.Hart.Run(1);
        Assert.Equal(0x1122_3344_5566_7788UL, _m.X(5));
    }
}
