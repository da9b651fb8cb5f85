namespace Vessel.Storage.Tests;

/// <summary>Deterministic, recognisable test bytes.</summary>
internal static class TestData
{
    public static byte[] Pattern(int length, int seed)
    {
        var random = new Random(seed);
        byte[] data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    public static byte[] ReadAll(IBlockBackend disk, ulong offset, int length)
    {
        byte[] data = new byte[length];
        disk.Read(offset, data);
        return data;
    }
}
