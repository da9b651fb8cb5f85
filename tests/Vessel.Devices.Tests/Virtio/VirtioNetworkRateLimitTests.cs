using Vessel.Devices.RateLimiting;
using Vessel.Devices.Virtio;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>A rate-limited virtio-net holds frames back in each direction (never drops them) until tokens refill.</summary>
public sealed class VirtioNetworkRateLimitTests : IDisposable
{
    private static readonly byte[] Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<byte[]> _sent = [];
    private readonly VirtioTestDriver _driver;

    public VirtioNetworkRateLimitTests()
    {
        var limit = new IoRateLimit(OpsPerSecond: 10, OpsBurst: 1);
        _driver = new VirtioTestDriver(m => new VirtioNetwork(m, Mac, frame => _sent.Add(frame.ToArray()), limit, limit, _time), queues: 2);
        _driver.Initialize();
    }

    private VirtioNetwork Nic => (VirtioNetwork)_driver.Device;

    public void Dispose()
    {
        Nic.Dispose();
        _driver.Dispose();
    }

    [Fact]
    public void TransmitBeyondTheLimitWaitsInTheRing()
    {
        for (int i = 0; i < 3; i++)
        {
            ulong b = VirtioTestDriver.Buffer(1, i);
            _driver.Memory.GetSpan(b, 12 + 60).Clear();
            _driver.Post(1, [(b, 12 + 60, false)]);
        }

        Assert.Single(_sent);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, _sent.Count);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(3, _sent.Count);
        Assert.Equal(3, _driver.TakeUsed(1).Count);
        Assert.Equal(0, Nic.TransmitDropped);
    }

    [Fact]
    public void ReceiveBeyondTheLimitWaitsInThePendingQueue()
    {
        for (int i = 0; i < 3; i++)
        {
            _driver.Post(0, [(VirtioTestDriver.Buffer(0, i), 2048, true)]);
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.True(Nic.TryReceive(new byte[60]));
        }

        Assert.Single(_driver.TakeUsed(0));
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, _driver.TakeUsed(0).Count);
        Assert.Equal(3, Nic.ReceivedFrames);
        Assert.Equal(0, Nic.ReceiveDropped);
    }
}
