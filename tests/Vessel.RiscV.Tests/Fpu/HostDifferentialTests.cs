using Vessel.RiscV.Fpu;
using static Vessel.RiscV.Tests.Fpu.FloatTestValues;

namespace Vessel.RiscV.Tests.Fpu;

/// <summary>
/// Randomised agreement checks. .NET's <see cref="double"/>/<see cref="float"/> arithmetic and
/// <see cref="Math.FusedMultiplyAdd(double, double, double)"/> are IEEE 754 round-to-nearest-even, so both the
/// integer core and the public entry points (which may take host-assisted fast paths) must match them bit for bit
/// in RNE. In the other modes, the host-assisted paths must match the integer core in result and flags.
/// </summary>
public sealed class HostDifferentialTests
{
    private const int Cases = 60_000;

    [Fact]
    public void Binary64RoundToNearestEvenMatchesTheHost()
    {
        var operands = new RandomOperands(64);
        for (int i = 0; i < Cases; i++)
        {
            ulong a = operands.Binary64();
            ulong b = operands.Below(3) == 0 ? operands.Near64(a) : operands.Binary64();
            ulong c = operands.Binary64();
            double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b), z = BitConverter.UInt64BitsToDouble(c);
            if (operands.Below(4) == 0)
            {
                c = D(-(x * y)) + (ulong)(operands.Below(5) - 2); // a product that nearly cancels
                z = BitConverter.UInt64BitsToDouble(c);
            }

            uint f = 0;
            Same(x + y, SoftFloat.Add64(a, b, Rne, ref f), FloatArithmetic<Binary64>.Add(a, b, Rne, ref f), a, b);
            Same(x - y, SoftFloat.Sub64(a, b, Rne, ref f), FloatArithmetic<Binary64>.Add(a, b ^ Sign64, Rne, ref f), a, b);
            Same(x * y, SoftFloat.Mul64(a, b, Rne, ref f), FloatArithmetic<Binary64>.Mul(a, b, Rne, ref f), a, b);
            Same(x / y, SoftFloat.Div64(a, b, Rne, ref f), FloatArithmetic<Binary64>.Div(a, b, Rne, ref f), a, b);
            Same(Math.Sqrt(x), SoftFloat.Sqrt64(a, Rne, ref f), FloatArithmetic<Binary64>.Sqrt(a, Rne, ref f), a, a);
            ulong fused = SoftFloat.MulAdd64(a, b, c, Rne, ref f);
            Same(Math.FusedMultiplyAdd(x, y, z), fused, fused, a, b);
            Same((float)x, SoftFloat.Float64To32(a, Rne, ref f), a);
        }
    }

    [Fact]
    public void Binary32RoundToNearestEvenMatchesTheHost()
    {
        var operands = new RandomOperands(32);
        for (int i = 0; i < Cases; i++)
        {
            uint a = operands.Binary32();
            uint b = operands.Below(3) == 0 ? operands.Near32(a) : operands.Binary32();
            uint c = operands.Binary32();
            float x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b), z = BitConverter.UInt32BitsToSingle(c);
            if (operands.Below(4) == 0)
            {
                c = S(-(x * y)) + (uint)(operands.Below(5) - 2);
                z = BitConverter.UInt32BitsToSingle(c);
            }

            uint f = 0;
            Same(x + y, SoftFloat.Add32(a, b, Rne, ref f), FloatArithmetic<Binary32>.Add(a, b, Rne, ref f), a, b);
            Same(x - y, SoftFloat.Sub32(a, b, Rne, ref f), FloatArithmetic<Binary32>.Add(a, b ^ Sign32, Rne, ref f), a, b);
            Same(x * y, SoftFloat.Mul32(a, b, Rne, ref f), FloatArithmetic<Binary32>.Mul(a, b, Rne, ref f), a, b);
            Same(x / y, SoftFloat.Div32(a, b, Rne, ref f), FloatArithmetic<Binary32>.Div(a, b, Rne, ref f), a, b);
            Same(MathF.Sqrt(x), SoftFloat.Sqrt32(a, Rne, ref f), FloatArithmetic<Binary32>.Sqrt(a, Rne, ref f), a, a);
            Same(MathF.FusedMultiplyAdd(x, y, z), SoftFloat.MulAdd32(a, b, c, Rne, ref f), FusedMultiplyAdd<Binary32>.MulAdd(a, b, c, Rne, ref f), a, b);
        }
    }

    [Theory]
    [InlineData(Rne)]
    [InlineData(Rtz)]
    [InlineData(Rdn)]
    [InlineData(Rup)]
    [InlineData(Rmm)]
    public void HostAssistedPathsMatchTheIntegerCore(int rm)
    {
        var operands = new RandomOperands(100 + rm);
        for (int i = 0; i < Cases / 2; i++)
        {
            ulong a = operands.Binary64();
            ulong b = operands.Below(3) == 0 ? operands.Near64(a) : operands.Binary64();
            Agree(a, b, 0, "add", rm, (ref uint f) => HostAssistedArithmetic.Add64(a, b, rm, ref f), (ref uint f) => FloatArithmetic<Binary64>.Add(a, b, rm, ref f));
            Agree(a, b, 0, "mul", rm, (ref uint f) => HostAssistedArithmetic.Mul64(a, b, rm, ref f), (ref uint f) => FloatArithmetic<Binary64>.Mul(a, b, rm, ref f));
            Agree(a, b, 0, "div", rm, (ref uint f) => HostAssistedArithmetic.Div64(a, b, rm, ref f), (ref uint f) => FloatArithmetic<Binary64>.Div(a, b, rm, ref f));
            Agree(a, 0, 0, "sqrt", rm, (ref uint f) => HostAssistedArithmetic.Sqrt64(a & ~Sign64, rm, ref f), (ref uint f) => FloatArithmetic<Binary64>.Sqrt(a & ~Sign64, rm, ref f));

            uint a32 = operands.Binary32();
            uint b32 = operands.Below(3) == 0 ? operands.Near32(a32) : operands.Binary32();
            uint c32 = operands.Binary32();
            if (operands.Below(3) == 0)
            {
                c32 = S(-(BitConverter.UInt32BitsToSingle(a32) * BitConverter.UInt32BitsToSingle(b32))) + (uint)(operands.Below(5) - 2);
            }

            Agree(a32, b32, 0, "add32", rm, (ref uint f) => HostAssistedArithmetic.Add32(a32, b32, rm, ref f), (ref uint f) => FloatArithmetic<Binary32>.Add(a32, b32, rm, ref f));
            Agree(a32, b32, 0, "mul32", rm, (ref uint f) => HostAssistedArithmetic.Mul32(a32, b32, rm, ref f), (ref uint f) => FloatArithmetic<Binary32>.Mul(a32, b32, rm, ref f));
            Agree(a32, b32, 0, "div32", rm, (ref uint f) => HostAssistedArithmetic.Div32(a32, b32, rm, ref f), (ref uint f) => FloatArithmetic<Binary32>.Div(a32, b32, rm, ref f));
            Agree(a32, 0, 0, "sqrt32", rm, (ref uint f) => HostAssistedArithmetic.Sqrt32(a32 & ~Sign32, rm, ref f), (ref uint f) => FloatArithmetic<Binary32>.Sqrt(a32 & ~Sign32, rm, ref f));
            Agree(a32, b32, c32, "fma32", rm, (ref uint f) => HostAssistedArithmetic.MulAdd32(a32, b32, c32, rm, ref f), (ref uint f) => FusedMultiplyAdd<Binary32>.MulAdd(a32, b32, c32, rm, ref f));
        }
    }

    private delegate ulong Operation(ref uint flags);

    private static void Agree(ulong a, ulong b, ulong c, string name, int rm, Operation fast, Operation core)
    {
        uint fastFlags = 0, coreFlags = 0;
        ulong fastResult = fast(ref fastFlags), coreResult = core(ref coreFlags);
        Assert.True(
            fastResult == coreResult && fastFlags == coreFlags,
            $"{name} rm={rm} 0x{a:x} 0x{b:x} 0x{c:x}: host-assisted 0x{fastResult:x}/{fastFlags:x2}, core 0x{coreResult:x}/{coreFlags:x2}");
    }

    private static void Same(double expected, ulong api, ulong core, ulong a, ulong b)
    {
        ulong e = double.IsNaN(expected) ? SoftFloat.CanonicalNaN64 : D(expected);
        Assert.True(e == api && e == core, $"0x{a:x16} 0x{b:x16}: host 0x{e:x16}, API 0x{api:x16}, core 0x{core:x16}");
    }

    private static void Same(float expected, uint api, ulong a)
    {
        uint e = float.IsNaN(expected) ? SoftFloat.CanonicalNaN32 : S(expected);
        Assert.True(e == api, $"0x{a:x16}: host 0x{e:x8}, API 0x{api:x8}");
    }

    private static void Same(float expected, uint api, ulong core, uint a, uint b)
    {
        uint e = float.IsNaN(expected) ? SoftFloat.CanonicalNaN32 : S(expected);
        Assert.True(e == api && e == core, $"0x{a:x8} 0x{b:x8}: host 0x{e:x8}, API 0x{api:x8}, core 0x{core:x8}");
    }
}
