using System.Runtime.CompilerServices;
using Vessel.Machine.Abstractions;
using Vessel.RiscV.Decoding;

namespace Vessel.RiscV;

/// <summary>
/// One RV64GC hart with M, S and U modes and Sv39/Sv48 paging. The architectural state lives here; the
/// interpreter, memory path, CSRs, traps and floating point are in the partial files beside it.
/// A hart belongs to one host thread; other threads touch it only through <see cref="RaiseInterrupt"/>,
/// <see cref="ClearInterrupt"/> and <see cref="RequestExit"/>.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>Decoded integer destination for x0: a 33rd register that nothing reads.</summary>
    public const int SinkRegister = 32;

    private const int DecodeCacheBits = 15;
    private const int DecodeCacheMask = (1 << DecodeCacheBits) - 1;

    private readonly ulong[] _registerStorage = GC.AllocateArray<ulong>(40, pinned: true);
    private readonly ulong[] _floatStorage = GC.AllocateArray<ulong>(32, pinned: true);
    private readonly DecodedInstruction[] _decodeStorage = GC.AllocateArray<DecodedInstruction>(1 << DecodeCacheBits, pinned: true);
    private readonly ulong* _x;
    private readonly ulong* _f;
    private readonly DecodedInstruction* _decodeCache;
    private readonly GuestMemory _ram;
    private readonly IPhysicalBus _bus;
    private readonly MachineClock _clock;
    private readonly byte* _ramHost;
    private readonly ulong _ramBase;
    private readonly ulong _ramSize;

    public Hart(int hartId, GuestMemory ram, IPhysicalBus bus, MachineClock clock)
    {
        HartId = hartId;
        _ram = ram;
        _bus = bus;
        _clock = clock;
        _ramHost = ram.HostBase;
        _ramBase = ram.BaseAddress;
        _ramSize = ram.Size;
        _x = (ulong*)Unsafe.AsPointer(ref _registerStorage[0]);
        _f = (ulong*)Unsafe.AsPointer(ref _floatStorage[0]);
        _decodeCache = (DecodedInstruction*)Unsafe.AsPointer(ref _decodeStorage[0]);
        _tlb = (TlbEntry*)Unsafe.AsPointer(ref _tlbStorage[0]);
        Reset(ram.BaseAddress);
    }

    public int HartId { get; }

    /// <summary>Program counter.</summary>
    public ulong Pc;

    public PrivilegeLevel Privilege { get; private set; } = PrivilegeLevel.Machine;

    /// <summary>Instructions retired since reset (minstret, including guest writes to it).</summary>
    public ulong InstructionsRetired => _instret;

    /// <summary>True while the hart sits in WFI with no interrupt pending.</summary>
    public bool IsWaitingForInterrupt { get; private set; }

    public GuestMemory Memory => _ram;

    public MachineClock Clock => _clock;

    /// <summary>Reads integer register x<paramref name="index"/> (x0 reads 0).</summary>
    public ulong GetRegister(int index) => index == 0 ? 0 : _x[(uint)index & 31];

    public void SetRegister(int index, ulong value)
    {
        if (index != 0)
        {
            _x[(uint)index & 31] = value;
        }
    }

    public ulong GetFloatRegister(int index) => _f[(uint)index & 31];

    public void SetFloatRegister(int index, ulong value) => _f[(uint)index & 31] = value;

    /// <summary>Resets to M-mode at <paramref name="resetVector"/> (privileged spec 3.4).</summary>
    public void Reset(ulong resetVector)
    {
        new Span<ulong>(_x, 40).Clear();
        new Span<ulong>(_f, 32).Clear();
        Pc = resetVector;
        Privilege = PrivilegeLevel.Machine;
        ResetCsrs();
        FlushTlb();
        _reservationValid = false;
        IsWaitingForInterrupt = false;
        FatalTrap = null;
    }

    /// <summary>Asks the running loop to return soon (another thread, e.g. pause or an interrupt line change).</summary>
    public void RequestExit() => Volatile.Write(ref _exitRequested, 1);

    private int _exitRequested;
}
