namespace Vessel.RiscV;

/// <summary>
/// Privileged spec 3.7: 16 PMP entries with TOR, NA4 and NAPOT matching, locking, and grain 4 bytes (G = 0).
/// Like QEMU, when no entry is enabled every access is allowed, so software that never programs PMP still runs.
/// </summary>
public sealed class PhysicalMemoryProtection
{
    public const int EntryCount = 16;

    private const byte Read = 1;
    private const byte Write = 2;
    private const byte Execute = 4;
    private const byte AddressMatchMask = 3 << 3;
    private const byte Lock = 0x80;
    private const int Off = 0;
    private const int Tor = 1;
    private const int Na4 = 2;
    private const int Napot = 3;
    private const ulong AddressMask = (1UL << 54) - 1; // pmpaddr holds physical address bits 55:2

    private readonly byte[] _config = new byte[EntryCount];
    private readonly ulong[] _address = new ulong[EntryCount];

    // The enabled entries in priority order with their inclusive byte ranges, recomputed on every pmpcfg/pmpaddr
    // write: Allows runs on every TLB fill (after each sfence.vma), so it must not decode the registers each time.
    private readonly int[] _active = new int[EntryCount];
    private readonly ulong[] _low = new ulong[EntryCount];
    private readonly ulong[] _high = new ulong[EntryCount];
    private int _activeEntries;

    public void Reset()
    {
        Array.Clear(_config);
        Array.Clear(_address);
        Recompute();
    }

    /// <summary>pmpcfgN: only even N exist on RV64; entries past the 16 implemented read as zero.</summary>
    public bool TryReadConfig(int csrIndex, out ulong value)
    {
        value = 0;
        if ((csrIndex & 1) != 0)
        {
            return false;
        }

        int first = csrIndex * 4;
        for (int i = 0; i < 8 && first + i < EntryCount; i++)
        {
            value |= (ulong)_config[first + i] << (8 * i);
        }

        return true;
    }

    public bool TryWriteConfig(int csrIndex, ulong value)
    {
        if ((csrIndex & 1) != 0)
        {
            return false;
        }

        int first = csrIndex * 4;
        for (int i = 0; i < 8 && first + i < EntryCount; i++)
        {
            byte b = (byte)(value >> (8 * i));
            int entry = first + i;
            if ((_config[entry] & Lock) != 0)
            {
                continue; // locked entries ignore writes until reset
            }

            // R=0, W=1 is reserved (without Smepmp): keep the entry as it was.
            if ((b & (Read | Write)) == Write)
            {
                continue;
            }

            _config[entry] = (byte)(b & (Read | Write | Execute | AddressMatchMask | Lock));
        }

        Recompute();
        return true;
    }

    public ulong ReadAddress(int index) => index < EntryCount ? _address[index] : 0;

    public void WriteAddress(int index, ulong value)
    {
        if (index >= EntryCount || (_config[index] & Lock) != 0)
        {
            return;
        }

        // A locked TOR entry also locks the address register below it.
        if (index + 1 < EntryCount && (_config[index + 1] & Lock) != 0 && Mode(index + 1) == Tor)
        {
            return;
        }

        _address[index] = value & AddressMask;
        Recompute(); // a TOR entry's range also depends on the address below it
    }

    /// <summary>
    /// Whether an access to [address, address + length) by <paramref name="privilege"/> is allowed. Privileged
    /// spec 3.7.1: the lowest-numbered entry that matches any byte decides, and it must match every byte.
    /// </summary>
    public bool Allows(ulong address, ulong length, PrivilegeLevel privilege, AccessType access)
    {
        if (_activeEntries == 0)
        {
            return true;
        }

        ulong last = address + length - 1;
        for (int k = 0; k < _activeEntries; k++)
        {
            int i = _active[k];
            ulong lo = _low[i], hi = _high[i]; // inclusive bounds; hi < lo means empty
            if (hi < lo || last < lo || address > hi)
            {
                continue;
            }

            if (address < lo || last > hi)
            {
                return false; // partial match fails
            }

            byte cfg = _config[i];
            if (privilege == PrivilegeLevel.Machine && (cfg & Lock) == 0)
            {
                return true;
            }

            byte needed = access switch
            {
                AccessType.Fetch => Execute,
                AccessType.Load => Read,
                _ => Write,
            };
            return (cfg & needed) != 0;
        }

        return privilege == PrivilegeLevel.Machine;
    }

    private int Mode(int i) => (_config[i] & AddressMatchMask) >> 3;

    private (ulong Lo, ulong Hi) Range(int i, int mode)
    {
        switch (mode)
        {
            case Tor:
                {
                    ulong lo = i == 0 ? 0 : _address[i - 1] << 2;
                    ulong top = _address[i] << 2;
                    return top == 0 ? (1, 0) : (lo, top - 1);
                }

            case Na4:
                return (_address[i] << 2, (_address[i] << 2) + 3);
            default:
                {
                    // NAPOT: trailing ones in pmpaddr give the size, 2^(ones + 3) bytes.
                    ulong a = _address[i];
                    int ones = System.Numerics.BitOperations.TrailingZeroCount(~a);
                    if (ones >= 54)
                    {
                        return (0, ulong.MaxValue);
                    }

                    ulong size = 1UL << (ones + 3);
                    ulong baseAddress = (a & ~((1UL << ones) - 1)) << 2;
                    return (baseAddress, baseAddress + size - 1);
                }
        }
    }

    private void Recompute()
    {
        int n = 0;
        for (int i = 0; i < EntryCount; i++)
        {
            int mode = Mode(i);
            if (mode != Off)
            {
                (_low[i], _high[i]) = Range(i, mode);
                _active[n++] = i;
            }
        }

        _activeEntries = n;
    }

    public void SaveState(Vessel.Machine.Abstractions.State.StateWriter writer)
    {
        writer.WriteBytes(_config);
        writer.WriteUInt64Array(_address);
    }

    public void LoadState(Vessel.Machine.Abstractions.State.StateReader reader)
    {
        byte[] config = reader.ReadBytes();
        reader.Require(config.Length == EntryCount, $"{config.Length} PMP entries where this hart has {EntryCount}");
        config.CopyTo(_config, 0);
        reader.ReadUInt64Array(_address);
        Recompute();
    }
}
