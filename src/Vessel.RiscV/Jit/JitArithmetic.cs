using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Vessel.RiscV.Jit;

/// <summary>
/// The integer operations that translated blocks call instead of emitting inline IL: the ones IL has no single
/// opcode for, or whose IL opcode would throw where RISC-V defines a result (division, unprivileged spec 13.2).
/// Each takes the two source operands (or rs1 and the immediate) and returns the rd value.
/// </summary>
/// <remarks>
/// The 32-bit (W) helpers are never inlined: inlined into a compiled block, <see cref="Divuw"/> left its 64-bit
/// operand's local truncated to 32 bits when a later exit wrote that register back (differential seed 20: x17 lost
/// its upper half; correct with DOTNET_JitNoInline=1 or DOTNET_JITMinOpts=1, so RyuJIT's optimised inlining of the
/// narrowing casts, not the block's IL, as far as found). A call costs a few nanoseconds on these rare instructions.
/// </remarks>
internal static class JitArithmetic
{
    public static ulong MulHigh(ulong a, ulong b) => (ulong)Math.BigMul((long)a, (long)b, out _);

    public static ulong MulHighUnsigned(ulong a, ulong b) => Math.BigMul(a, b, out _);

    public static ulong MulHighSignedUnsigned(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out _);
        return (long)a < 0 ? high - b : high;
    }

    // Division by zero gives all ones (quotient) or the dividend (remainder); MIN / -1 overflows to MIN, remainder 0.
    public static ulong Div(ulong a, ulong b) => b == 0 ? ulong.MaxValue : (long)b == -1 ? 0 - a : (ulong)((long)a / (long)b);

    public static ulong Divu(ulong a, ulong b) => b == 0 ? ulong.MaxValue : a / b;

    public static ulong Rem(ulong a, ulong b) => b == 0 ? a : (long)b == -1 ? 0 : (ulong)((long)a % (long)b);

    public static ulong Remu(ulong a, ulong b) => b == 0 ? a : a % b;

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Divw(ulong a, ulong b)
    {
        int x = (int)a, y = (int)b;
        return (ulong)(long)(y == 0 ? -1 : y == -1 ? unchecked(-x) : x / y);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Divuw(ulong a, ulong b) => (ulong)(long)(int)((uint)b == 0 ? uint.MaxValue : (uint)a / (uint)b);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Remw(ulong a, ulong b)
    {
        int x = (int)a, y = (int)b;
        return (ulong)(long)(y == 0 ? x : y == -1 ? 0 : x % y);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Remuw(ulong a, ulong b) => (ulong)(long)(int)((uint)b == 0 ? (uint)a : (uint)a % (uint)b);

    public static ulong Clz(ulong a, ulong b) => (ulong)BitOperations.LeadingZeroCount(a);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Clzw(ulong a, ulong b) => (ulong)BitOperations.LeadingZeroCount((uint)a);

    public static ulong Ctz(ulong a, ulong b) => (ulong)BitOperations.TrailingZeroCount(a);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Ctzw(ulong a, ulong b) => (ulong)BitOperations.TrailingZeroCount((uint)a);

    public static ulong Cpop(ulong a, ulong b) => (ulong)BitOperations.PopCount(a);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Cpopw(ulong a, ulong b) => (ulong)BitOperations.PopCount((uint)a);

    public static ulong Max(ulong a, ulong b) => (long)a > (long)b ? a : b;

    public static ulong Maxu(ulong a, ulong b) => a > b ? a : b;

    public static ulong Min(ulong a, ulong b) => (long)a < (long)b ? a : b;

    public static ulong Minu(ulong a, ulong b) => a < b ? a : b;

    public static ulong Rol(ulong a, ulong b) => BitOperations.RotateLeft(a, (int)(b & 63));

    public static ulong Ror(ulong a, ulong b) => BitOperations.RotateRight(a, (int)(b & 63));

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Rolw(ulong a, ulong b) => (ulong)(long)(int)BitOperations.RotateLeft((uint)a, (int)(b & 31));

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: inlined into a block, it truncated a register
    public static ulong Rorw(ulong a, ulong b) => (ulong)(long)(int)BitOperations.RotateRight((uint)a, (int)(b & 31));

    public static ulong Rev8(ulong a, ulong b) => BinaryPrimitives.ReverseEndianness(a);

    public static ulong OrcB(ulong a, ulong b)
    {
        // Bit-manipulation spec orc.b: each byte becomes 0xFF if any of its bits is set.
        ulong low7 = (a & 0x7F7F_7F7F_7F7F_7F7FUL) + 0x7F7F_7F7F_7F7F_7F7FUL;
        ulong nonZero = (low7 | a) & 0x8080_8080_8080_8080UL;
        return (nonZero >> 7) * 0xFF;
    }

    public static ulong Bclr(ulong a, ulong b) => a & ~(1UL << (int)(b & 63));

    public static ulong Bext(ulong a, ulong b) => (a >> (int)(b & 63)) & 1;

    public static ulong Binv(ulong a, ulong b) => a ^ (1UL << (int)(b & 63));

    public static ulong Bset(ulong a, ulong b) => a | (1UL << (int)(b & 63));
}
