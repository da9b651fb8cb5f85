using Vessel.RiscV.Decoding;

namespace Vessel.RiscV.Jit;

/// <summary>
/// A hot block handed to the <see cref="BackgroundCompiler"/>: a copy of its guest bytes and decoded instructions
/// taken on the hart's thread, and, once compiled, the code. The hart polls <see cref="Code"/> at the block's next
/// lookup and keeps interpreting the block until then.
/// </summary>
internal sealed class PendingTranslation(ulong pc, nint host, byte[] code, DecodedInstruction[] block)
{
    private volatile BlockFunction? _code;
    private volatile bool _failed;

    public ulong Pc { get; } = pc;

    public nint Host { get; } = host;

    public byte[] GuestCode { get; } = code;

    public DecodedInstruction[] Block { get; } = block;

    /// <summary>The compiled block (already through RyuJIT), or null while it is queued or compiling.</summary>
    public BlockFunction? Code => _code;

    /// <summary>Translation threw: the block stays interpreted rather than retried on every lookup.</summary>
    public bool Failed => _failed;

    /// <summary>Stopwatch ticks spent translating and compiling; valid once <see cref="Code"/> is set.</summary>
    public long CompileTicks { get; private set; }

    public void Complete(BlockFunction code, long ticks)
    {
        CompileTicks = ticks;
        _code = code; // volatile write after the ticks: a reader that sees the code sees them too
    }

    public void Fail() => _failed = true;
}
