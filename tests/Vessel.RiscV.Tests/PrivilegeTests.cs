using static Vessel.RiscV.Tests.InstructionEncoder;

namespace Vessel.RiscV.Tests;

/// <summary>Traps, delegation, interrupts, WFI and CSR access rules (privileged spec ch. 3 and 10).</summary>
public sealed class PrivilegeTests : IDisposable
{
    private const ulong MachineVector = TestMachine.RamBase + 0x1000;
    private const ulong SupervisorVector = TestMachine.RamBase + 0x2000;
    private readonly TestMachine _m = new();

    public PrivilegeTests()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mtvec, MachineVector);
        _m.Hart.TryWriteCsr(CsrAddress.Stvec, SupervisorVector);

        // Handlers are a few NOPs so that a run that traps early keeps executing harmlessly.
        _m.Load(MachineVector, Addi(0, 0, 0), Addi(0, 0, 0), Addi(0, 0, 0), Addi(0, 0, 0));
        _m.Load(SupervisorVector, Addi(0, 0, 0), Addi(0, 0, 0), Addi(0, 0, 0), Addi(0, 0, 0));
    }

    public void Dispose() => _m.Dispose();

    private void RunIn(PrivilegeLevel mode, params uint[] program)
    {
        _m.Load(TestMachine.RamBase, program);
        _m.Hart.SetPrivilegeLevel(mode);
        _m.Hart.Pc = TestMachine.RamBase;
        _m.Hart.Run(program.Length);
    }

    [Fact]
    public void EcallFromUserIsDelegatedToSupervisor()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Medeleg, 1UL << 8);
        RunIn(PrivilegeLevel.User, Addi(1, 0, 1), Ecall);
        Assert.Equal(SupervisorVector, _m.Hart.Pc);
        Assert.Equal(PrivilegeLevel.Supervisor, _m.Hart.Privilege);
        Assert.Equal(8UL, _m.Csr(CsrAddress.Scause));
        Assert.Equal(TestMachine.RamBase + 4, _m.Csr(CsrAddress.Sepc));
        Assert.Equal(0UL, _m.Csr(CsrAddress.Sstatus) & StatusBits.Spp); // came from U
    }

    [Fact]
    public void ExceptionsInMachineModeAreNeverDelegated()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Medeleg, 0xB3FF);
        RunIn(PrivilegeLevel.Machine, Ebreak);
        Assert.Equal(MachineVector, _m.Hart.Pc);
        Assert.Equal((ulong)TrapCause.Breakpoint, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(TestMachine.RamBase, _m.Csr(CsrAddress.Mtval));
    }

    [Fact]
    public void IllegalInstructionReportsTheInstructionBits()
    {
        RunIn(PrivilegeLevel.Machine, 0xFFFF_FFFF);
        Assert.Equal((ulong)TrapCause.IllegalInstruction, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(0xFFFF_FFFFUL, _m.Csr(CsrAddress.Mtval));
    }

    [Fact]
    public void TimerInterruptUsesTheVectoredEntry()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mtvec, MachineVector | 1);
        _m.Hart.TryWriteCsr(CsrAddress.Mie, InterruptBits.MachineTimer);
        _m.Hart.TryWriteCsr(CsrAddress.Mstatus, StatusBits.Mie);
        _m.Load(TestMachine.RamBase, Addi(1, 0, 1), Addi(1, 0, 2));
        _m.Load(MachineVector + (4 * 7), Addi(9, 0, 1));
        _m.Hart.Pc = TestMachine.RamBase;
        _m.Hart.RaiseInterrupt(InterruptBits.MachineTimer);
        _m.Hart.Run(1);
        Assert.Equal((1UL << 63) | 7, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(TestMachine.RamBase, _m.Csr(CsrAddress.Mepc));
        Assert.Equal(1UL, _m.X(9)); // the vectored entry ran
        Assert.Equal(0UL, _m.X(1)); // the interrupted instruction did not
    }

    [Fact]
    public void MaskedInterruptIsNotTakenInMachineMode()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mie, InterruptBits.MachineTimer);
        _m.Hart.RaiseInterrupt(InterruptBits.MachineTimer);
        RunIn(PrivilegeLevel.Machine, Addi(1, 0, 1));
        Assert.Equal(1UL, _m.X(1));
        Assert.Equal(TestMachine.RamBase + 4, _m.Hart.Pc);
    }

    [Fact]
    public void MachineInterruptsPreemptLowerModesRegardlessOfMie()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mie, InterruptBits.MachineSoftware);
        _m.Hart.RaiseInterrupt(InterruptBits.MachineSoftware);
        RunIn(PrivilegeLevel.User, Addi(1, 0, 1));
        Assert.Equal((1UL << 63) | 3, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(PrivilegeLevel.Machine, _m.Hart.Privilege);
    }

    [Fact]
    public void DelegatedInterruptIsNotTakenInMachineMode()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mideleg, InterruptBits.SupervisorSoftware);
        _m.Hart.TryWriteCsr(CsrAddress.Mie, InterruptBits.SupervisorSoftware);
        _m.Hart.TryWriteCsr(CsrAddress.Mip, InterruptBits.SupervisorSoftware);
        _m.Hart.TryWriteCsr(CsrAddress.Mstatus, StatusBits.Mie | StatusBits.Sie);
        RunIn(PrivilegeLevel.Machine, Addi(1, 0, 1));
        Assert.Equal(1UL, _m.X(1));
        RunIn(PrivilegeLevel.User, Addi(1, 0, 2));
        Assert.Equal((1UL << 63) | 1, _m.Csr(CsrAddress.Scause));
        Assert.Equal(SupervisorVector + 4, _m.Hart.Pc); // the handler's first NOP ran
        Assert.Equal(0UL, _m.X(1) & 2);
    }

    [Fact]
    public void WfiParksUntilAnInterruptIsPending()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mie, InterruptBits.MachineTimer);
        _m.Load(TestMachine.RamBase, Wfi, Addi(1, 0, 7));
        _m.Hart.Pc = TestMachine.RamBase;
        Assert.Equal(HartRunResult.WaitingForInterrupt, _m.Hart.Run(10));
        Assert.True(_m.Hart.IsWaitingForInterrupt);
        _m.Hart.RaiseInterrupt(InterruptBits.MachineTimer);
        _m.Hart.Run(1); // MIE is clear in M-mode: WFI resumes without taking the trap
        Assert.Equal(7UL, _m.X(1));
    }

    [Fact]
    public void WfiInUserModeIsIllegal()
    {
        RunIn(PrivilegeLevel.User, Wfi);
        Assert.Equal((ulong)TrapCause.IllegalInstruction, _m.Csr(CsrAddress.Mcause));
    }

    [Fact]
    public void SretTrapsWhenTsrIsSet()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mstatus, StatusBits.Tsr);
        RunIn(PrivilegeLevel.Supervisor, Sret);
        Assert.Equal((ulong)TrapCause.IllegalInstruction, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(PrivilegeLevel.Machine, _m.Hart.Privilege);
    }

    [Fact]
    public void MretToUserClearsMprv()
    {
        _m.Hart.TryWriteCsr(CsrAddress.Mstatus, StatusBits.Mprv | StatusBits.Mpie);
        _m.Hart.TryWriteCsr(CsrAddress.Mepc, TestMachine.RamBase + 0x100);
        RunIn(PrivilegeLevel.Machine, Mret);
        Assert.Equal(PrivilegeLevel.User, _m.Hart.Privilege);
        Assert.Equal(TestMachine.RamBase + 0x100, _m.Hart.Pc);
        ulong status = _m.Csr(CsrAddress.Mstatus);
        Assert.Equal(0UL, status & StatusBits.Mprv);
        Assert.NotEqual(0UL, status & StatusBits.Mie); // MIE <- MPIE
    }

    [Fact]
    public void CountersNeedCounterEnableBelowMachineMode()
    {
        RunIn(PrivilegeLevel.User, Csrrs(1, CsrAddress.Cycle, 0));
        Assert.Equal((ulong)TrapCause.IllegalInstruction, _m.Csr(CsrAddress.Mcause));
        _m.Hart.TryWriteCsr(CsrAddress.Mcounteren, 7);
        _m.Hart.TryWriteCsr(CsrAddress.Scounteren, 7);
        RunIn(PrivilegeLevel.User, Addi(2, 0, 1), Csrrs(1, CsrAddress.Instret, 0));
        Assert.Equal(TestMachine.RamBase + 8, _m.Hart.Pc);
    }

    [Fact]
    public void WritingAReadOnlyCsrIsIllegalButReadingIsNot()
    {
        RunIn(PrivilegeLevel.Machine, Csrrs(1, CsrAddress.Mhartid, 0), Csrrw(0, CsrAddress.Mhartid, 1));
        Assert.Equal((ulong)TrapCause.IllegalInstruction, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(TestMachine.RamBase + 4, _m.Csr(CsrAddress.Mepc));
    }

    [Fact]
    public void SupervisorCannotTouchMachineCsrs()
    {
        RunIn(PrivilegeLevel.Supervisor, Csrrs(1, CsrAddress.Mstatus, 0));
        Assert.Equal((ulong)TrapCause.IllegalInstruction, _m.Csr(CsrAddress.Mcause));
    }

    [Fact]
    public void MisalignedLoadsAndStoresWorkAsInQemu()
    {
        _m.Memory.WriteUInt64(TestMachine.RamBase + 0x3000, 0x8877_6655_4433_2211);
        _m.Hart.SetRegister(6, TestMachine.RamBase + 0x3001);
        RunIn(PrivilegeLevel.Machine, Lw(5, 6, 0));
        Assert.Equal(0x5544_3322UL, _m.X(5));

        // Across a page boundary too.
        _m.Hart.SetRegister(6, TestMachine.RamBase + 0x3FFD);
        _m.Hart.SetRegister(7, 0x0102_0304_0506_0708);
        RunIn(PrivilegeLevel.Machine, Sd(7, 6, 0), Ld(5, 6, 0));
        Assert.Equal(0x0102_0304_0506_0708UL, _m.X(5));
    }

    [Fact]
    public void MisalignedAtomicIsAStoreAddressMisalignedTrap()
    {
        _m.Hart.SetRegister(6, TestMachine.RamBase + 0x3002);
        uint amoaddW = R(0x2F, 5, 2, 6, 7, 0);
        RunIn(PrivilegeLevel.Machine, amoaddW);
        Assert.Equal((ulong)TrapCause.StoreAddressMisaligned, _m.Csr(CsrAddress.Mcause));
        Assert.Equal(TestMachine.RamBase + 0x3002, _m.Csr(CsrAddress.Mtval));
    }

    [Fact]
    public void StoreConditionalFailsWhenAnotherAgentChangedTheWord()
    {
        ulong address = TestMachine.RamBase + 0x3000;
        _m.Hart.SetRegister(6, address);
        _m.Hart.SetRegister(7, 99);
        uint lrD = R(0x2F, 5, 3, 6, 0, 0x02 << 2);
        uint scD = R(0x2F, 8, 3, 6, 7, 0x03 << 2);

        RunIn(PrivilegeLevel.Machine, scD); // no reservation
        Assert.Equal(1UL, _m.X(8));

        RunIn(PrivilegeLevel.Machine, lrD, scD);
        Assert.Equal(0UL, _m.X(8));
        Assert.Equal(99UL, _m.Memory.ReadUInt64(address));

        RunIn(PrivilegeLevel.Machine, lrD);
        _m.Memory.WriteUInt64(address, 5); // another hart's store
        _m.Load(TestMachine.RamBase, scD);
        _m.Hart.Pc = TestMachine.RamBase;
        _m.Hart.Run(1);
        Assert.Equal(1UL, _m.X(8));
        Assert.Equal(5UL, _m.Memory.ReadUInt64(address));
    }

    [Fact]
    public void FloatingPointIsIllegalWhileFsIsOff()
    {
        uint fmvWX = 0xF000_0053; // fmv.w.x f0, x0
        RunIn(PrivilegeLevel.Machine, fmvWX);
        Assert.Equal((ulong)TrapCause.IllegalInstruction, _m.Csr(CsrAddress.Mcause));

        _m.Hart.TryWriteCsr(CsrAddress.Mstatus, 1UL << StatusBits.FsShift);
        RunIn(PrivilegeLevel.Machine, fmvWX);
        ulong status = _m.Csr(CsrAddress.Mstatus);
        Assert.Equal(StatusBits.FsDirty, status & StatusBits.Fs);
        Assert.NotEqual(0UL, status & StatusBits.Sd);
    }
}
