namespace Vessel.RiscV.Tests.Fpu;

/// <summary>
/// Seeded random operand encodings weighted towards the places soft-float bugs live: specials, subnormals, the
/// edges of the normal range, sparse and dense significands (ties, exact results), and pairs that cancel.
/// </summary>
internal sealed class RandomOperands(int seed)
{
    private readonly Random random = new(seed);

    public ulong Binary64() => Next(11, 52);

    public uint Binary32() => (uint)Next(8, 23);

    /// <summary>An encoding a few units in the last place from <paramref name="near"/>, with either sign.</summary>
    public ulong Near64(ulong near) => Nudge(near, 64);

    public uint Near32(uint near) => (uint)Nudge(near, 32);

    public int Below(int n) => random.Next(n);

    private ulong Nudge(ulong near, int width)
    {
        ulong bits = near + (ulong)(random.Next(7) - 3);
        if (random.Next(2) == 0)
        {
            bits ^= 1UL << (width - 1);
        }

        return width == 64 ? bits : bits & 0xFFFF_FFFF;
    }

    private ulong Next(int exponentBits, int fractionBits)
    {
        int maxExponent = (1 << exponentBits) - 1, bias = maxExponent >> 1;
        ulong sign = (ulong)random.Next(2) << (exponentBits + fractionBits);
        ulong fractionMask = (1UL << fractionBits) - 1;
        ulong Pack(int exponent, ulong fraction) => sign | ((ulong)exponent << fractionBits) | (fraction & fractionMask);
        return random.Next(16) switch
        {
            0 => random.Next(8) switch
            {
                0 => Pack(0, 0),
                1 => Pack(maxExponent, 0),
                2 => Pack(maxExponent, 1UL << (fractionBits - 1) | Fraction(fractionBits)), // quiet NaN
                3 => Pack(maxExponent, 1 + (Fraction(fractionBits) >> 2)), // signalling NaN
                4 => Pack(1, 0),
                5 => Pack(maxExponent - 1, fractionMask),
                6 => Pack(0, 1),
                _ => Pack(bias, 0),
            },
            1 or 2 => Pack(0, Fraction(fractionBits) | 1), // subnormal
            3 => Pack(1 + random.Next(3), Fraction(fractionBits)),
            4 => Pack(maxExponent - 1 - random.Next(3), Fraction(fractionBits)),
            5 => (ulong)random.NextInt64() & (sign | (sign - 1)), // any encoding
            6 => Pack(random.Next(1, maxExponent), Fraction(fractionBits)),
            _ => Pack(bias - 30 + random.Next(61), Fraction(fractionBits)),
        };
    }

    private ulong Fraction(int fractionBits)
    {
        ulong mask = (1UL << fractionBits) - 1;
        ulong sparse = 0;
        for (int i = random.Next(4); i > 0; i--)
        {
            sparse |= 1UL << random.Next(fractionBits);
        }

        return random.Next(6) switch
        {
            0 => sparse,
            1 => mask ^ sparse,
            2 => (ulong)random.NextInt64() & mask & ~((1UL << random.Next(fractionBits)) - 1),
            _ => (ulong)random.NextInt64() & mask,
        };
    }
}
