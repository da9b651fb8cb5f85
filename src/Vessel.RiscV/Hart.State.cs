using Vessel.Machine.Abstractions.State;

namespace Vessel.RiscV;

/// <summary>Save/load of the architectural state (DESIGN.md §5): everything a restored hart needs to go on as if never stopped.</summary>
public sealed unsafe partial class Hart : IStatefulDevice
{
    private const ushort StateVersion = 1;

    /// <summary>Writes x/f registers, pc, privilege, every CSR, PMP, the LR reservation, pending interrupts and WFI state.
    /// Call only while the hart's thread is parked (between slices).</summary>
    public void SaveState(StateWriter writer)
    {
        writer.BeginSection($"hart{HartId}", StateVersion);
        writer.WriteUInt64Array(new ReadOnlySpan<ulong>(_x, 32));
        writer.WriteUInt64Array(new ReadOnlySpan<ulong>(_f, 32));
        writer.WriteUInt64(Pc);
        writer.WriteByte((byte)Privilege);
        writer.WriteUInt64Array(
        [
            _mstatus, _medeleg, _mideleg, _mie, _mipSoftware, Volatile.Read(ref _mipHardware), _mtvec, _stvec, _mepc, _sepc,
            _mcause, _scause, _mtval, _stval, _mscratch, _sscratch, _satp, _mcounteren, _scounteren, _mcountinhibit,
            _menvcfg, _senvcfg, _stimecmp, _instret, (ulong)_cycleOffset, _fflags, _frm,
        ]);
        _pmp.SaveState(writer);
        writer.WriteBoolean(_reservationValid);
        writer.WriteUInt64(_reservationAddress);
        writer.WriteUInt64(_reservationValue);
        writer.WriteBoolean(IsWaitingForInterrupt);
        writer.WriteBoolean(HasEnteredUserMode);
        writer.WriteUInt64(TrapsTaken);
        writer.EndSection();
    }

    /// <summary>Replaces the whole architectural state; TLB entries from before are dropped.</summary>
    public void LoadState(StateReader reader)
    {
        reader.BeginSection($"hart{HartId}", StateVersion);
        reader.ReadUInt64Array(new Span<ulong>(_x, 32));
        _x[0] = 0;
        reader.ReadUInt64Array(new Span<ulong>(_f, 32));
        Pc = reader.ReadUInt64();
        byte privilege = reader.ReadByte();
        reader.Require(privilege is (byte)PrivilegeLevel.User or (byte)PrivilegeLevel.Supervisor or (byte)PrivilegeLevel.Machine, $"privilege level {privilege} does not exist");
        Span<ulong> csr = stackalloc ulong[27];
        reader.ReadUInt64Array(csr);
        _mstatus = csr[0];
        _medeleg = csr[1];
        _mideleg = csr[2];
        _mie = csr[3];
        _mipSoftware = csr[4];
        Volatile.Write(ref _mipHardware, csr[5]);
        _mtvec = csr[6];
        _stvec = csr[7];
        _mepc = csr[8];
        _sepc = csr[9];
        _mcause = csr[10];
        _scause = csr[11];
        _mtval = csr[12];
        _stval = csr[13];
        _mscratch = csr[14];
        _sscratch = csr[15];
        _satp = csr[16];
        _mcounteren = (uint)csr[17];
        _scounteren = (uint)csr[18];
        _mcountinhibit = (uint)csr[19];
        _menvcfg = csr[20];
        _senvcfg = csr[21];
        _stimecmp = csr[22];
        _instret = csr[23];
        _cycleOffset = (long)csr[24];
        _fflags = (uint)csr[25] & 0x1F;
        _frm = (uint)csr[26] & 7;
        _pmp.LoadState(reader);
        _reservationValid = reader.ReadBoolean();
        _reservationAddress = reader.ReadUInt64();
        _reservationValue = reader.ReadUInt64();
        IsWaitingForInterrupt = reader.ReadBoolean();
        bool enteredUser = reader.ReadBoolean();
        TrapsTaken = reader.ReadUInt64();
        reader.EndSection();

        FatalTrap = null;
        FlushTlb();
        SetPrivilege((PrivilegeLevel)privilege);
        HasEnteredUserMode = enteredUser;
    }
}
