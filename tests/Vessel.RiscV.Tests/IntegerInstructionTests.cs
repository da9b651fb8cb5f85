using static Vessel.RiscV.Tests.InstructionEncoder;

namespace Vessel.RiscV.Tests;

/// <summary>RV64I/M/Zb* edge cases the conformance suite does not pin down well.</summary>
public sealed class IntegerInstructionTests
{
    private static ulong RunOp(uint instruction, ulong a, ulong b)
    {
        using var m = new TestMachine();
        m.Hart.SetRegister(1, a);
        m.Hart.SetRegister(2, b);
        m.Run(instruction);
        return m.X(3);
    }

    // funct3 for OP (0x33) with funct7 = 1: M extension
    private static uint Mext(uint funct3) => Op(3, 1, 2, funct3, 1);

    private static uint Mext32(uint funct3) => Op32(3, 1, 2, funct3, 1);

    [Theory]
    [InlineData(4u, 7UL, 0UL, ulong.MaxValue)] // div by zero: -1
    [InlineData(5u, 7UL, 0UL, ulong.MaxValue)] // divu by zero: all ones
    [InlineData(6u, 7UL, 0UL, 7UL)] // rem by zero: dividend
    [InlineData(7u, 7UL, 0UL, 7UL)] // remu by zero: dividend
    [InlineData(4u, 0x8000_0000_0000_0000UL, ulong.MaxValue, 0x8000_0000_0000_0000UL)] // overflow: MIN
    [InlineData(6u, 0x8000_0000_0000_0000UL, ulong.MaxValue, 0UL)] // overflow remainder: 0
    [InlineData(4u, unchecked((ulong)-7L), 2UL, unchecked((ulong)-3L))] // rounds toward zero
    [InlineData(6u, unchecked((ulong)-7L), 2UL, unchecked((ulong)-1L))] // remainder has the dividend's sign
    public void DivisionFollowsTheSpecTable(uint funct3, ulong a, ulong b, ulong expected)
    {
        Assert.Equal(expected, RunOp(Mext(funct3), a, b));
    }

    [Theory]
    [InlineData(4u, 7UL, 0UL, ulong.MaxValue)] // divw by zero
    [InlineData(5u, 7UL, 0UL, ulong.MaxValue)] // divuw by zero: 0xFFFFFFFF sign-extended
    [InlineData(6u, 0xFFFF_FFFF_8000_0007UL, 0UL, 0xFFFF_FFFF_8000_0007UL)] // remw by zero: low word, sign-extended
    [InlineData(7u, 0x0000_0001_8000_0007UL, 0UL, 0xFFFF_FFFF_8000_0007UL)] // remuw by zero: sign-extended too
    [InlineData(4u, 0x8000_0000UL, 0xFFFF_FFFFUL, 0xFFFF_FFFF_8000_0000UL)] // divw overflow
    [InlineData(6u, 0x8000_0000UL, 0xFFFF_FFFFUL, 0UL)] // remw overflow
    [InlineData(5u, 0x1_0000_0010UL, 0x2UL, 8UL)] // divuw ignores the upper halves
    public void WordDivisionSignExtends(uint funct3, ulong a, ulong b, ulong expected)
    {
        Assert.Equal(expected, RunOp(Mext32(funct3), a, b));
    }

    [Fact]
    public void WordOperationsSignExtendTheirResults()
    {
        Assert.Equal(0xFFFF_FFFF_8000_0000UL, RunOp(Op32(3, 1, 2, 0, 0), 0x7FFF_FFFFUL, 1)); // addw
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, RunOp(Op32(3, 1, 2, 0, 0x20), 0x1_0000_0000UL, 1)); // subw
        Assert.Equal(0xFFFF_FFFF_8000_0000UL, RunOp(Op32(3, 1, 2, 1, 0), 1, 31)); // sllw
        Assert.Equal(1UL, RunOp(Op32(3, 1, 2, 5, 0), 0xFFFF_FFFF_8000_0000UL, 31)); // srlw zero-fills bit 31
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, RunOp(Op32(3, 1, 2, 5, 0x20), 0x8000_0000UL, 31)); // sraw
        Assert.Equal(0x0000_0000_0000_0001UL, RunOp(Op32(3, 1, 2, 1, 0), 1, 32)); // sllw uses 5 shift bits
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFEUL, RunOp(Op32(3, 1, 2, 0, 1), 0xFFFF_FFFFUL, 2)); // mulw
        Assert.Equal(0xFFFF_FFFF_8000_0000UL, RunOp(I(0x1B, 3, 0, 1, 0), 0x1234_5678_8000_0000UL, 0)); // addiw (sext.w)
    }

    [Fact]
    public void HighMultipliesUseTheRightSignedness()
    {
        ulong minusOne = ulong.MaxValue;
        Assert.Equal(ulong.MaxValue, RunOp(Mext(1), minusOne, 1)); // mulh(-1, 1) = -1 >> 64 = -1
        Assert.Equal(0UL, RunOp(Mext(3), minusOne, 1)); // mulhu(2^64-1, 1) = 0
        Assert.Equal(ulong.MaxValue, RunOp(Mext(2), minusOne, 1)); // mulhsu(-1, 1) = -1
        Assert.Equal(ulong.MaxValue - 1, RunOp(Mext(3), minusOne, minusOne)); // mulhu: (2^64-1)^2 >> 64
        Assert.Equal(ulong.MaxValue, RunOp(Mext(2), minusOne, minusOne)); // mulhsu(-1, 2^64-1) = -(2^64-1) >> 64 = -1
    }

    [Fact]
    public void WritesToX0AreDiscarded()
    {
        using var m = new TestMachine();
        m.Run(Addi(0, 0, 5), Addi(1, 0, 0));
        Assert.Equal(0UL, m.X(0));
        Assert.Equal(0UL, m.X(1));
    }

    [Fact]
    public void BitManipulationEdgeCases()
    {
        Assert.Equal(64UL, RunOp(I(0x13, 3, 1, 1, 0x600), 0, 0)); // clz 0
        Assert.Equal(64UL, RunOp(I(0x13, 3, 1, 1, 0x601), 0, 0)); // ctz 0
        Assert.Equal(32UL, RunOp(I(0x1B, 3, 1, 1, 0x600), 0xFFFF_FFFF_0000_0000UL, 0)); // clzw looks at the low word
        Assert.Equal(0xFF00_FF00_0000_00FFUL, RunOp(I(0x13, 3, 5, 1, 0x287), 0x0100_8000_0000_0001UL, 0)); // orc.b
        Assert.Equal(0x0807_0605_0403_0201UL, RunOp(I(0x13, 3, 5, 1, 0x6B8), 0x0102_0304_0506_0708UL, 0)); // rev8
        Assert.Equal(0xFFFF_FFFF_8000_0000UL, RunOp(I(0x1B, 3, 5, 1, (0x30 << 5) | 1), 1, 0)); // roriw 1
        Assert.Equal(1UL, RunOp(Op(3, 1, 2, 3, 5), 1UL << 63, 2)); // clmulh: 2^63 (x) 2 = 2^64
        Assert.Equal(1UL << 63, RunOp(Op(3, 1, 2, 2, 5), 1UL << 63, 1UL << 63)); // clmulr: bits 126..63 of 2^126
        Assert.Equal(0x5555_5555_5555_5555UL, RunOp(Op(3, 1, 2, 1, 5), 0x1111_1111_1111_1111UL, 5)); // clmul
        Assert.Equal(0x2_0000_0001UL, RunOp(Op32(3, 1, 2, 0, 4), 0xFFFF_FFFF_0000_0001UL, 0x2_0000_0000UL)); // add.uw
        Assert.Equal(0xFFFFUL, RunOp(Op32(3, 1, 0, 4, 4), 0xFFFF_FFFF_FFFF_FFFFUL, 0)); // zext.h
    }
}
