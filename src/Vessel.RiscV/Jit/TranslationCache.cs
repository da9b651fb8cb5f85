namespace Vessel.RiscV.Jit;

/// <summary>
/// One hart's translated blocks: a fixed-size, two-way set-associative table keyed by guest pc and the host address
/// the pc fetched from (so a remapped page, a satp switch or an sfence.vma that changes the mapping simply misses).
/// A new block replaces a block of its set that is not compiled yet, else the less recently used one; an evicted block's DynamicMethod becomes garbage, so native code
/// stays bounded however much new code a guest runs. Not thread-safe: a hart's cache belongs to its thread.
/// </summary>
internal sealed class TranslationCache
{
    public const int DefaultSets = 8192;
    private const ulong EmptyPc = 1; // pcs are always even

    private readonly TranslationSlot[] _slots;
    private readonly int _setShift;

    public TranslationCache(int sets = DefaultSets)
    {
        if (sets < 1 || (sets & (sets - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sets), sets, "the number of sets must be a power of two");
        }

        _slots = new TranslationSlot[sets * 2];
        _setShift = 64 - System.Numerics.BitOperations.Log2((uint)sets);
        Clear();
    }

    /// <summary>Most blocks the cache holds at once.</summary>
    public int Capacity => _slots.Length;

    /// <summary>Blocks compiled so far.</summary>
    public long Compiled { get; private set; }

    /// <summary>Compiled blocks dropped to make room for others.</summary>
    public long Evicted { get; private set; }

    /// <summary>Compiled blocks found stale (their guest code changed) and dropped.</summary>
    public long Invalidated { get; private set; }

    /// <summary>Compiled blocks held now.</summary>
    public int CountCompiled()
    {
        int count = 0;
        foreach (ref readonly var slot in _slots.AsSpan())
        {
            if (slot.Code is not null)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// The slot for (<paramref name="pc"/>, <paramref name="host"/>). <paramref name="found"/> is false when it was
    /// just claimed for this pc (evicting the older block of the set): the caller must fill in the plan.
    /// </summary>
    public ref TranslationSlot Find(ulong pc, nint host, out bool found)
    {
        // Fibonacci hashing: spreads 2- and 4-byte aligned pcs over every set.
        int set = _setShift == 64 ? 0 : (int)(((pc >> 1) * 0x9E37_79B9_7F4A_7C15UL) >> _setShift) * 2;
        ref TranslationSlot first = ref _slots[set];
        if (first.Pc == pc && first.Host == host)
        {
            found = true;
            return ref first;
        }

        ref TranslationSlot second = ref _slots[set + 1];
        if (second.Pc == pc && second.Host == host)
        {
            // Most recently used first, so a miss evicts the block used least recently.
            (first, second) = (second, first);
            found = true;
            return ref first;
        }

        found = false;
        if (first.Code is null && first.Pending is null)
        {
            // Cold blocks make way first, so code that runs once cannot push out compiled blocks or blocks the
            // background compiler is working on (dropping those wasted the compile: 622 of 3,299 on a boot).
            first = new TranslationSlot { Pc = pc, Host = host };
            return ref first;
        }

        if (second.Code is null && second.Pending is null)
        {
            second = first;
            first = new TranslationSlot { Pc = pc, Host = host };
            return ref first;
        }

        if (second.Code is not null)
        {
            second.Code.Retire(); // chains and the jump cache must not enter it any more
            Evicted++;
        }

        second = first;
        first = new TranslationSlot { Pc = pc, Host = host };
        return ref first;
    }

    public void RecordCompiled() => Compiled++;

    /// <summary>Drops a block whose guest code changed; the slot is planned again from the current bytes.</summary>
    public void RecordInvalidated(ref TranslationSlot slot)
    {
        slot.Code?.Retire();
        slot.Code = null;
        slot.Heat = 0;
        Invalidated++;
    }

    /// <summary>Forgets every block.</summary>
    public void Clear()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i].Code?.Retire();
            _slots[i] = new TranslationSlot { Pc = EmptyPc };
        }
    }
}
