using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vessel.RiscV;

/// <summary>
/// The memory path: software TLB (DESIGN.md §4), the Sv39/Sv48 page-table walk (privileged spec 4.3–4.5),
/// PMP checks, and RAM/MMIO access. A TLB hit is a compare and an add; everything else is the slow path here.
/// </summary>
public sealed unsafe partial class Hart
{
    private const int TlbBits = 8;
    private const int TlbSize = 1 << TlbBits;
    private const int TlbMask = TlbSize - 1;
    private const ulong InvalidTag = ulong.MaxValue;

    // PTE bits, privileged spec 4.3.1
    private const ulong PteValid = 1;
    private const ulong PteRead = 2;
    private const ulong PteWrite = 4;
    private const ulong PteExecute = 8;
    private const ulong PteUser = 16;
    private const ulong PteAccessed = 64;
    private const ulong PteDirty = 128;
    private const ulong PpnMask = (1UL << 44) - 1;

    // One direct-mapped set per (privilege slot 0..3) x (access type), so a mode switch needs no flush.
    private readonly TlbEntry[] _tlbStorage = GC.AllocateArray<TlbEntry>(4 * 3 * TlbSize, pinned: true);
    private readonly TlbEntry* _tlb;
    private readonly PhysicalMemoryProtection _pmp = new();
    private TlbEntry* _fetchTlb;
    private TlbEntry* _loadTlb;
    private TlbEntry* _storeTlb;
    private PrivilegeLevel _dataPrivilege;
    private bool _tlbHasSuperpages;

    // LR/SC reservation (unprivileged spec 8.2). SC succeeds only if memory still holds the value LR read,
    // checked with a compare-and-swap, so a store by another hart in between makes it fail (bar ABA).
    private bool _reservationValid;
    private ulong _reservationAddress;
    private ulong _reservationValue;

    [StructLayout(LayoutKind.Sequential)]
    private struct TlbEntry
    {
        public ulong Tag;       // virtual page number, or InvalidTag
        public long HostDelta;  // host address = virtual address + HostDelta
    }

    private enum Translation
    {
        Ok,
        PageFault,
        AccessFault,
    }

    /// <summary>Forgets every cached translation (satp writes, sfence.vma, PMP and SUM/MXR changes).</summary>
    public void FlushTlb()
    {
        for (int i = 0; i < 4 * 3 * TlbSize; i++)
        {
            _tlb[i].Tag = InvalidTag;
        }

        _tlbHasSuperpages = false;
        SelectDataTlb();
    }

    /// <summary>sfence.vma with an address: one page, unless a superpage may cover it.</summary>
    private void FlushTlbPage(ulong va)
    {
        if (_tlbHasSuperpages)
        {
            FlushTlb();
            return;
        }

        ulong tag = va >> 12;
        int index = (int)(tag & TlbMask);
        for (int set = 0; set < 4 * 3; set++)
        {
            ref TlbEntry e = ref _tlb[(set * TlbSize) + index];
            if (e.Tag == tag)
            {
                e.Tag = InvalidTag;
            }
        }
    }

    /// <summary>Points the fetch and data TLB sets at the current (and, with MPRV, the effective) privilege.</summary>
    private void SelectDataTlb()
    {
        _fetchTlb = _tlb + ((int)Privilege * 3 * TlbSize);
        _dataPrivilege = Privilege == PrivilegeLevel.Machine && (_mstatus & StatusBits.Mprv) != 0
            ? (PrivilegeLevel)((_mstatus & StatusBits.Mpp) >> StatusBits.MppShift)
            : Privilege;
        _loadTlb = _tlb + ((((int)_dataPrivilege * 3) + 1) * TlbSize);
        _storeTlb = _tlb + ((((int)_dataPrivilege * 3) + 2) * TlbSize);
    }

    private void ResetPmp()
    {
        _pmp.Reset();
    }

    private bool ReadPmpConfig(int index, out ulong value) => _pmp.TryReadConfig(index, out value);

    private ulong ReadPmpAddress(int index) => _pmp.ReadAddress(index);

    private bool WritePmpConfig(int index, ulong value)
    {
        bool ok = _pmp.TryWriteConfig(index, value);
        FlushTlb();
        return ok;
    }

    private void WritePmpAddress(int index, ulong value)
    {
        _pmp.WriteAddress(index, value);
        FlushTlb();
    }

    /// <summary>
    /// Privileged spec 4.3.2: the page-table walk. Sets A (and D for stores) atomically in the PTE, as Svadu
    /// hardware updating does. <paramref name="pageBits"/> is 12 for a 4 KiB page, more for a superpage.
    /// </summary>
    private Translation Translate(ulong va, AccessType access, PrivilegeLevel privilege, out ulong pa, out int pageBits)
    {
        pageBits = 12;
        ulong mode = _satp >> 60;
        if (privilege == PrivilegeLevel.Machine || mode == 0)
        {
            pa = va;
            return Translation.Ok;
        }

        pa = 0;
        int levels = mode == 8 ? 3 : 4;
        int vaBits = 12 + (9 * levels);
        // Bits above the VA width must all equal its top bit (4.3.1 / 4.4.1).
        if ((ulong)((long)va << (64 - vaBits) >> (64 - vaBits)) != va)
        {
            return Translation.PageFault;
        }

    restart:
        ulong table = (_satp & PpnMask) << 12;
        for (int level = levels - 1; level >= 0; level--)
        {
            int shift = 12 + (9 * level);
            ulong pteAddress = table + (((va >> shift) & 511) * 8);
            // 3.7.1: implicit page-table accesses are checked by PMP as S-mode loads.
            if (!_pmp.Allows(pteAddress, 8, PrivilegeLevel.Supervisor, AccessType.Load) || !_ram.Contains(pteAddress, 8))
            {
                return Translation.AccessFault;
            }

            ulong* ptePointer = (ulong*)(_ramHost + (pteAddress - _ramBase));
            ulong pte = Volatile.Read(ref *ptePointer);
            // Bits 63:54 are N, PBMT and reserved: without Svnapot/Svpbmt they must be zero.
            if ((pte & PteValid) == 0 || (pte & (PteRead | PteWrite)) == PteWrite || (pte >> 54) != 0)
            {
                return Translation.PageFault;
            }

            if ((pte & (PteRead | PteExecute)) == 0)
            {
                // Pointer to the next level; D, A and U must be zero in non-leaf PTEs (4.3.1).
                if (level == 0 || (pte & (PteAccessed | PteDirty | PteUser)) != 0)
                {
                    return Translation.PageFault;
                }

                table = ((pte >> 10) & PpnMask) << 12;
                continue;
            }

            if (!LeafPermits(pte, access, privilege))
            {
                return Translation.PageFault;
            }

            ulong ppn = (pte >> 10) & PpnMask;
            if (level > 0 && (ppn & ((1UL << (9 * level)) - 1)) != 0)
            {
                return Translation.PageFault; // misaligned superpage
            }

            ulong needed = PteAccessed | (access == AccessType.Store ? PteDirty : 0);
            if ((pte & needed) != needed)
            {
                if (Interlocked.CompareExchange(ref *ptePointer, pte | needed, pte) != pte)
                {
                    goto restart; // another hart changed the PTE: walk again
                }
            }

            pageBits = shift;
            ulong offsetMask = (1UL << shift) - 1;
            pa = ((ppn << 12) & ~offsetMask) | (va & offsetMask);
            return Translation.Ok;
        }

        return Translation.PageFault;
    }

    private bool LeafPermits(ulong pte, AccessType access, PrivilegeLevel privilege)
    {
        bool user = (pte & PteUser) != 0;
        switch (access)
        {
            case AccessType.Fetch:
                // S-mode may never execute from a U page (4.3.1), whatever SUM says.
                return (pte & PteExecute) != 0 && user == (privilege == PrivilegeLevel.User);
            case AccessType.Load:
                bool readable = (pte & PteRead) != 0 || ((_mstatus & StatusBits.Mxr) != 0 && (pte & PteExecute) != 0);
                return readable && UserCheck(user, privilege);
            default:
                return (pte & PteWrite) != 0 && UserCheck(user, privilege);
        }
    }

    private bool UserCheck(bool userPage, PrivilegeLevel privilege) => privilege == PrivilegeLevel.User
        ? userPage
        : !userPage || (_mstatus & StatusBits.Sum) != 0;

    /// <summary>
    /// Translates and checks one access that stays within a page. On success gives the physical address and,
    /// when RAM backs it, the host pointer (else null: MMIO). On failure raises the trap and returns false.
    /// Fills the TLB set <paramref name="tlbSet"/> when the whole 4 KiB page may be cached.
    /// </summary>
    private bool Resolve(ulong va, int size, AccessType access, PrivilegeLevel privilege, TlbEntry* tlbSet, out ulong pa, out byte* host)
    {
        host = null;
        Translation t = Translate(va, access, privilege, out pa, out int pageBits);
        if (t != Translation.Ok)
        {
            RaiseException(FaultCause(access, t == Translation.PageFault), va);
            return false;
        }

        if (!_pmp.Allows(pa, (ulong)size, privilege, access))
        {
            RaiseException(FaultCause(access, pageFault: false), va);
            return false;
        }

        ulong pagePa = pa & ~0xFFFUL;
        if (_ram.Contains(pagePa, 4096))
        {
            host = _ramHost + (pa - _ramBase);
            if (_pmp.Allows(pagePa, 4096, privilege, access))
            {
                ref TlbEntry e = ref tlbSet[(int)((va >> 12) & TlbMask)];
                e.Tag = va >> 12;
                e.HostDelta = (long)(_ramHost + (pagePa - _ramBase)) - (long)(va & ~0xFFFUL);
                if (pageBits > 12)
                {
                    _tlbHasSuperpages = true;
                }
            }
        }
        else if (_ram.Contains(pa, (ulong)size))
        {
            host = _ramHost + (pa - _ramBase);
        }

        return true;
    }

    private static TrapCause FaultCause(AccessType access, bool pageFault) => access switch
    {
        AccessType.Fetch => pageFault ? TrapCause.InstructionPageFault : TrapCause.InstructionAccessFault,
        AccessType.Load => pageFault ? TrapCause.LoadPageFault : TrapCause.LoadAccessFault,
        _ => pageFault ? TrapCause.StorePageFault : TrapCause.StoreAccessFault,
    };

    // ---- loads ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Load<T>(ulong va, out T value)
        where T : unmanaged
    {
        ref TlbEntry e = ref _loadTlb[(int)((va >> 12) & TlbMask)];
        if (e.Tag == va >> 12 && (va & 0xFFF) <= (ulong)(4096 - sizeof(T)))
        {
            value = Unsafe.ReadUnaligned<T>((void*)(long)(va + (ulong)e.HostDelta));
            return true;
        }

        bool ok = LoadSlow(va, sizeof(T), out ulong raw);
        value = Unsafe.As<ulong, T>(ref raw);
        return ok;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool LoadSlow(ulong va, int size, out ulong value)
    {
        value = 0;
        if ((va & 0xFFF) + (ulong)size > 4096)
        {
            // Misaligned across a page boundary: done as QEMU does, byte by byte, both pages translated first.
            ulong secondPage = (va | 0xFFF) + 1;
            if (!Resolve(va, (int)(secondPage - va), AccessType.Load, _dataPrivilege, _loadTlb, out ulong pa1, out _) ||
                !Resolve(secondPage, (int)(va + (ulong)size - secondPage), AccessType.Load, _dataPrivilege, _loadTlb, out ulong pa2, out _))
            {
                return false;
            }

            for (int i = 0; i < size; i++)
            {
                ulong a = va + (ulong)i < secondPage ? pa1 + (ulong)i : pa2 + (va + (ulong)i - secondPage);
                if (!ReadPhysical(a, 1, out ulong b))
                {
                    RaiseException(TrapCause.LoadAccessFault, va);
                    return false;
                }

                value |= b << (8 * i);
            }

            return true;
        }

        if (!Resolve(va, size, AccessType.Load, _dataPrivilege, _loadTlb, out ulong pa, out byte* host))
        {
            return false;
        }

        if (host != null)
        {
            value = ReadHost(host, size);
            return true;
        }

        if ((pa & (ulong)(size - 1)) != 0 || !_bus.Read(pa, size, out value))
        {
            RaiseException(TrapCause.LoadAccessFault, va);
            return false;
        }

        return true;
    }

    private static ulong ReadHost(byte* host, int size) => size switch
    {
        1 => *host,
        2 => Unsafe.ReadUnaligned<ushort>(host),
        4 => Unsafe.ReadUnaligned<uint>(host),
        _ => Unsafe.ReadUnaligned<ulong>(host),
    };

    private static void WriteHost(byte* host, int size, ulong value)
    {
        switch (size)
        {
            case 1: *host = (byte)value; break;
            case 2: Unsafe.WriteUnaligned(host, (ushort)value); break;
            case 4: Unsafe.WriteUnaligned(host, (uint)value); break;
            default: Unsafe.WriteUnaligned(host, value); break;
        }
    }

    private bool ReadPhysical(ulong pa, int size, out ulong value)
    {
        if (_ram.Contains(pa, (ulong)size))
        {
            value = ReadHost(_ramHost + (pa - _ramBase), size);
            return true;
        }

        return _bus.Read(pa, size, out value);
    }

    private bool WritePhysical(ulong pa, int size, ulong value)
    {
        if (_ram.Contains(pa, (ulong)size))
        {
            WriteHost(_ramHost + (pa - _ramBase), size, value);
            return true;
        }

        return _bus.Write(pa, size, value);
    }

    // ---- stores ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Store<T>(ulong va, T value)
        where T : unmanaged
    {
        ref TlbEntry e = ref _storeTlb[(int)((va >> 12) & TlbMask)];
        if (e.Tag == va >> 12 && (va & 0xFFF) <= (ulong)(4096 - sizeof(T)))
        {
            Unsafe.WriteUnaligned((void*)(long)(va + (ulong)e.HostDelta), value);
            return true;
        }

        ulong raw = 0;
        Unsafe.As<ulong, T>(ref raw) = value;
        return StoreSlow(va, sizeof(T), raw);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool StoreSlow(ulong va, int size, ulong value)
    {
        if ((va & 0xFFF) + (ulong)size > 4096)
        {
            ulong secondPage = (va | 0xFFF) + 1;
            if (!Resolve(va, (int)(secondPage - va), AccessType.Store, _dataPrivilege, _storeTlb, out ulong pa1, out _) ||
                !Resolve(secondPage, (int)(va + (ulong)size - secondPage), AccessType.Store, _dataPrivilege, _storeTlb, out ulong pa2, out _))
            {
                return false;
            }

            for (int i = 0; i < size; i++)
            {
                ulong a = va + (ulong)i < secondPage ? pa1 + (ulong)i : pa2 + (va + (ulong)i - secondPage);
                if (!WritePhysical(a, 1, value >> (8 * i)))
                {
                    RaiseException(TrapCause.StoreAccessFault, va);
                    return false;
                }
            }

            return true;
        }

        if (!Resolve(va, size, AccessType.Store, _dataPrivilege, _storeTlb, out ulong pa, out byte* host))
        {
            return false;
        }

        if (host != null)
        {
            WriteHost(host, size, value);
            return true;
        }

        if ((pa & (ulong)(size - 1)) != 0 || !_bus.Write(pa, size, value))
        {
            RaiseException(TrapCause.StoreAccessFault, va);
            return false;
        }

        return true;
    }

    // ---- atomics ----

    /// <summary>
    /// Resolves an AMO/SC target: it must be naturally aligned (else store/AMO address-misaligned, as QEMU does)
    /// and in RAM (else a store/AMO access fault). Checked for write permission, as the spec requires for AMOs.
    /// </summary>
    private bool ResolveAtomic(ulong va, int size, out byte* host)
    {
        host = null;
        if ((va & (ulong)(size - 1)) != 0)
        {
            RaiseException(TrapCause.StoreAddressMisaligned, va);
            return false;
        }

        ref TlbEntry e = ref _storeTlb[(int)((va >> 12) & TlbMask)];
        if (e.Tag == va >> 12)
        {
            host = (byte*)(long)(va + (ulong)e.HostDelta);
            return true;
        }

        if (!Resolve(va, size, AccessType.Store, _dataPrivilege, _storeTlb, out _, out host))
        {
            return false;
        }

        if (host == null)
        {
            RaiseException(TrapCause.StoreAccessFault, va);
            return false;
        }

        return true;
    }

    private bool LoadReserved(ulong va, int size, out ulong value)
    {
        value = 0;
        if ((va & (ulong)(size - 1)) != 0)
        {
            RaiseException(TrapCause.LoadAddressMisaligned, va);
            return false;
        }

        if (!Resolve(va, size, AccessType.Load, _dataPrivilege, _loadTlb, out _, out byte* host))
        {
            return false;
        }

        if (host == null)
        {
            RaiseException(TrapCause.LoadAccessFault, va);
            return false;
        }

        value = size == 4 ? (ulong)(long)Volatile.Read(ref *(int*)host) : Volatile.Read(ref *(ulong*)host);
        _reservationValid = true;
        _reservationAddress = va;
        _reservationValue = value;
        return true;
    }

    /// <summary>SC: returns false only when a trap was raised; <paramref name="failed"/> is the rd result.</summary>
    private bool StoreConditional(ulong va, int size, ulong value, out ulong failed)
    {
        failed = 1;
        if (!ResolveAtomic(va, size, out byte* host))
        {
            _reservationValid = false;
            return false;
        }

        if (_reservationValid && _reservationAddress == va)
        {
            bool ok = size == 4
                ? Interlocked.CompareExchange(ref *(int*)host, (int)value, (int)_reservationValue) == (int)_reservationValue
                : Interlocked.CompareExchange(ref *(ulong*)host, value, _reservationValue) == _reservationValue;
            failed = ok ? 0UL : 1UL;
        }

        _reservationValid = false;
        return true;
    }

    // ---- instruction fetch ----

    /// <summary>
    /// Fetches the instruction at <see cref="Pc"/> the slow way (TLB miss, page end, or an instruction that
    /// spans two pages). Returns false after raising a fetch fault.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool FetchSlow(ulong pc, out uint word)
    {
        word = 0;
        if (!Resolve(pc, 2, AccessType.Fetch, Privilege, _fetchTlb, out _, out byte* host))
        {
            return false;
        }

        if (host == null)
        {
            RaiseException(TrapCause.InstructionAccessFault, pc);
            return false;
        }

        ushort low = Unsafe.ReadUnaligned<ushort>(host);
        if ((low & 3) != 3)
        {
            word = low;
            return true;
        }

        if ((pc & 0xFFF) != 0xFFE)
        {
            word = Unsafe.ReadUnaligned<uint>(host);
            return true;
        }

        // 32-bit instruction spanning two pages: the fault, if any, names the second page's address.
        if (!Resolve(pc + 2, 2, AccessType.Fetch, Privilege, _fetchTlb, out _, out byte* high))
        {
            return false;
        }

        if (high == null)
        {
            RaiseException(TrapCause.InstructionAccessFault, pc + 2);
            return false;
        }

        word = low | ((uint)Unsafe.ReadUnaligned<ushort>(high) << 16);
        return true;
    }
}
