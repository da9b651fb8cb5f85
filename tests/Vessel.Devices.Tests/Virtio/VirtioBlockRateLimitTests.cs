using System.Buffers.Binary;
using Vessel.Devices.RateLimiting;
using Vessel.Devices.Virtio;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>A rate-limited virtio-blk delays requests (never fails them) and completes them as tokens refill.</summary>
public sealed class VirtioBlockRateLimitTests : IDisposable
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly VirtioTestDriver _driver;

    public VirtioBlockRateLimitTests()
    {
        var limit = new IoRateLimit(OpsPerSecond: 10, OpsBurst: 1);
        _driver = new VirtioTestDriver(memory => new VirtioBlock(new MemoryBlockBackend(1 << 16), memory, "limited", limit, _time), queues: 1);
        _driver.Initialize();
    }

    public void Dispose()
    {
        ((IDisposable)_driver.Device).Dispose();
        _driver.Dispose();
    }

    private void PostRead(int slot)
    {
        ulong header = VirtioTestDriver.Buffer(0, slot);
        BinaryPrimitives.WriteUInt32LittleEndian(_driver.Memory.GetSpan(header, 16), 0); // VIRTIO_BLK_T_IN, sector 0
        _driver.Post(0, [(header, 16, false), (header + 0x100, 512, true), (header + 0x400, 1, true)]);
    }

    [Fact]
    public void RequestsBeyondTheLimitWaitAndThenComplete()
    {
        for (int i = 0; i < 3; i++)
        {
            PostRead(i);
        }

        Assert.Single(_driver.TakeUsed(0)); // one op of burst; the other two wait in the ring
        Assert.False(_driver.NeedsReset);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Single(_driver.TakeUsed(0));
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var last = _driver.TakeUsed(0);
        Assert.Single(last);
        Assert.Equal(513u, last[0].Length); // 512 data bytes + status: completed, not failed
        Assert.Equal(0, _driver.Memory.GetSpan(VirtioTestDriver.Buffer(0, 2) + 0x400, 1)[0]);
        var block = (VirtioBlock)_driver.Device;
        Assert.Equal(3UL, block.ReadRequests);
        Assert.Equal(3UL, block.Throttled); // refused at the 2nd and 3rd notify, and the 3rd again after the 1st refill
    }
}
