namespace Vessel.RiscV.Jit;

/// <summary>
/// A translated guest block. Runs on <paramref name="hart"/> with its integer registers at <paramref name="x"/>,
/// leaves pc, registers and instret exactly as the interpreter would, and returns the number of instructions it
/// attempted (a faulting one included; never more than <paramref name="budget"/>, which must cover one pass), or -1
/// without touching any state when the guest code it was translated from has changed since.
/// </summary>
internal unsafe delegate int BlockFunction(Hart hart, ulong* x, int budget);
