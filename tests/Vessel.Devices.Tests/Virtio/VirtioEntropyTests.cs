using Vessel.Devices.Virtio;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>virtio-rng (virtio 1.2 §5.4) behind the MMIO transport.</summary>
public sealed class VirtioEntropyTests : IDisposable
{
    private readonly VirtioTestDriver _driver = new(m => new VirtioEntropy(m), queues: 1);

    public void Dispose() => _driver.Dispose();

    [Fact]
    public void IdentifiesAsAnEntropySource()
    {
        Assert.Equal(4u, _driver.Reg(0x008));
        Assert.NotEqual(0UL, _driver.OfferedFeatures() & (1UL << 32));
    }

    [Fact]
    public void FillsWritableBuffersWithRandomBytes()
    {
        _driver.Initialize();
        ulong a = VirtioTestDriver.Buffer(0, 0), b = VirtioTestDriver.Buffer(0, 1);
        _driver.Post(0, [(a, 256, true), (b, 256, true)]);
        var used = Assert.Single(_driver.TakeUsed(0));
        Assert.Equal(512u, used.Length);
        byte[] first = _driver.Memory.GetSpan(a, 256).ToArray();
        byte[] second = _driver.Memory.GetSpan(b, 256).ToArray();
        // 256 zero bytes from a CSPRNG has probability 2^-2048; equal halves likewise.
        Assert.True(first.AsSpan().ContainsAnyExcept((byte)0));
        Assert.False(first.AsSpan().SequenceEqual(second));
        Assert.True(_driver.Irq.Level);

        _driver.Post(0, [(a, 256, true)]);
        Assert.False(_driver.Memory.GetSpan(a, 256).SequenceEqual(first));
    }

    [Fact]
    public void ReadOnlyBufferPutsTheDeviceIntoNeedsReset()
    {
        _driver.Initialize();
        _driver.Post(0, [(VirtioTestDriver.Buffer(0, 0), 64, false)]);
        Assert.True(_driver.NeedsReset);
        Assert.Empty(_driver.TakeUsed(0));
    }

    [Fact]
    public void BufferOutsideRamPutsTheDeviceIntoNeedsReset()
    {
        _driver.Initialize();
        _driver.Post(0, [(0x1000, 64, true)]);
        Assert.True(_driver.NeedsReset);
    }
}
