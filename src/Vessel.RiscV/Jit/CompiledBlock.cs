namespace Vessel.RiscV.Jit;

/// <summary>
/// A compiled block as the dispatcher chains it (issue 9): its code, where it was translated from, and the block that
/// ran after it last time. The dispatcher follows <see cref="Next"/> (and the hart's jump cache for indirect jumps)
/// instead of hashing into the <see cref="TranslationCache"/>, but only when the successor's pc and fetch host address
/// match the ones the fetch TLB gives now and it has not been <see cref="Retired"/>; the block's own code check still
/// catches modified guest code. Only the owning hart's thread touches it.
/// </summary>
internal sealed class CompiledBlock(ulong pc, nint host, int instructions, BlockFunction function)
{
    public ulong Pc { get; } = pc;

    /// <summary>Host address of the block's first byte, from the fetch TLB when it was scanned.</summary>
    public nint Host { get; } = host;

    public int Instructions { get; } = instructions;

    public BlockFunction Function { get; } = function;

    /// <summary>The block that ran right after this one last time (a one-entry chain per block), or null.</summary>
    public CompiledBlock? Next;

    /// <summary>Evicted or invalidated: no chain may enter it again.</summary>
    public bool Retired { get; private set; }

    /// <summary>Whether this live block is the one for <paramref name="pc"/> at the fetch TLB's <paramref name="host"/> now.</summary>
    public bool Matches(ulong pc, nint host) => Pc == pc && Host == host && !Retired;

    /// <summary>
    /// Called when the cache drops the block: its link is cleared too, so a retired block keeps no other block alive
    /// and the memory held through links stays bounded by the cache and the jump cache.
    /// </summary>
    public void Retire()
    {
        Retired = true;
        Next = null;
    }
}
