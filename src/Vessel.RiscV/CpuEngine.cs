namespace Vessel.RiscV;

/// <summary>How a hart executes guest code.</summary>
public enum CpuEngine
{
    /// <summary>The interpreter: decode cache and a switch per instruction. The reference for every behaviour.</summary>
    Interpreter,

    /// <summary>Hot basic blocks translated to IL (DynamicMethod) and compiled by the .NET JIT; the rest interpreted.</summary>
    Jit,
}
