namespace Vessel.RiscV;

/// <summary>What the JIT of one hart has done: blocks compiled, dropped and held, and where instructions ran.</summary>
/// <param name="BlocksCompiled">Blocks translated to IL and compiled.</param>
/// <param name="BlocksEvicted">Compiled blocks dropped from the bounded cache to make room.</param>
/// <param name="BlocksInvalidated">Compiled blocks dropped because their guest code changed.</param>
/// <param name="BlocksHeld">Compiled blocks in the cache now.</param>
/// <param name="TranslatedInstructions">Instructions run by compiled blocks (including ones they handed to the interpreter).</param>
/// <param name="InterpretedInstructions">Instructions run by the interpreter outside compiled blocks (cold code, SYSTEM, TLB misses).</param>
/// <param name="CompileTime">Time spent translating and compiling, including RyuJIT's first-call compile.</param>
/// <param name="ChainedBlocks">Compiled blocks entered through the previous block's chain link (no cache lookup).</param>
/// <param name="JumpCacheHits">Compiled blocks entered through the per-hart jump cache (indirect jumps, relinked chains).</param>
/// <param name="ChainedInCode">Compiled blocks entered straight from the previous block's compiled code (no return to the dispatcher).</param>
public readonly record struct JitStatistics(
    long BlocksCompiled,
    long BlocksEvicted,
    long BlocksInvalidated,
    int BlocksHeld,
    long TranslatedInstructions,
    long InterpretedInstructions,
    TimeSpan CompileTime,
    long ChainedBlocks,
    long JumpCacheHits,
    long ChainedInCode);
