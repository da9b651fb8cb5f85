namespace Vessel.RiscV.Jit;

/// <summary>One block in the <see cref="TranslationCache"/>: where it is, how long it is, how hot, and its code once compiled.</summary>
internal struct TranslationSlot
{
    public ulong Pc;

    /// <summary>Host address of the block's first byte, from the fetch TLB.</summary>
    public nint Host;

    /// <summary>Instructions in the block; 0 when the first one must go to the interpreter alone.</summary>
    public int Instructions;

    /// <summary>Times the block has run in the interpreter; it is compiled when this reaches the threshold.</summary>
    public int Heat;

    public CompiledBlock? Code;

    /// <summary>The block's compile on the <see cref="BackgroundCompiler"/>, while <see cref="Code"/> is still null.</summary>
    public PendingTranslation? Pending;
}
