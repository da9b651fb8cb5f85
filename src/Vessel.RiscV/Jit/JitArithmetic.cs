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
/// The 32-bit (W) helpers are never inlined because RyuJIT 10.0.12 (x64, FullOpts) miscompiles a block with
/// <see cref="Divuw"/> inlined: in differential seed 20 (block 0x80000054, divuw x26, x19, x17) its own listing
/// (DOTNET_JitDisasm=rv_*) loads x17 into rdx, takes the divisor with <c>mov r11d, edx</c> (zero-extending) and
/// then writes r11 back as x17 (<c>mov qword ptr [rbx+0x88], r11</c>): the register allocator treats the 32-bit
/// copy as the whole 64-bit local. The block's IL never stores to x17 (ldloc x19; ldloc x17; call; stloc x26), and
/// the same block is correct with DOTNET_JitNoInline=1 or DOTNET_JITMinOpts=1. A small C# method with the same
/// shape did not reproduce it, so the trigger also depends on register pressure. A call costs a few nanoseconds
/// on these rare instructions.
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

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Divw(ulong a, ulong b)
    {
        int x = (int)a, y = (int)b;
        return (ulong)(long)(y == 0 ? -1 : y == -1 ? unchecked(-x) : x / y);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Divuw(ulong a, ulong b) => (ulong)(long)(int)((uint)b == 0 ? uint.MaxValue : (uint)a / (uint)b);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Remw(ulong a, ulong b)
    {
        int x = (int)a, y = (int)b;
        return (ulong)(long)(y == 0 ? x : y == -1 ? 0 : x % y);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Remuw(ulong a, ulong b) => (ulong)(long)(int)((uint)b == 0 ? (uint)a : (uint)a % (uint)b);

    public static ulong Clz(ulong a, ulong b) => (ulong)BitOperations.LeadingZeroCount(a);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Clzw(ulong a, ulong b) => (ulong)BitOperations.LeadingZeroCount((uint)a);

    public static ulong Ctz(ulong a, ulong b) => (ulong)BitOperations.TrailingZeroCount(a);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Ctzw(ulong a, ulong b) => (ulong)BitOperations.TrailingZeroCount((uint)a);

    public static ulong Cpop(ulong a, ulong b) => (ulong)BitOperations.PopCount(a);

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Cpopw(ulong a, ulong b) => (ulong)BitOperations.PopCount((uint)a);

    public static ulong Max(ulong a, ulong b) => (long)a > (long)b ? a : b;

    public static ulong Maxu(ulong a, ulong b) => a > b ? a : b;

    public static ulong Min(ulong a, ulong b) => (long)a < (long)b ? a : b;

    public static ulong Minu(ulong a, ulong b) => a < b ? a : b;

    public static ulong Rol(ulong a, ulong b) => BitOperations.RotateLeft(a, (int)(b & 63));

    public static ulong Ror(ulong a, ulong b) => BitOperations.RotateRight(a, (int)(b & 63));

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
    public static ulong Rolw(ulong a, ulong b) => (ulong)(long)(int)BitOperations.RotateLeft((uint)a, (int)(b & 31));

    [MethodImpl(MethodImplOptions.NoInlining)] // see the class remarks: RyuJIT 10 miscompiles blocks with it inlined
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
