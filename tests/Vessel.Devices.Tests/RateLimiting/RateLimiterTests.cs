using Vessel.Devices.RateLimiting;

namespace Vessel.Devices.Tests.RateLimiting;

/// <summary>Bytes and operations buckets together, and the resume callback when tokens come back.</summary>
public sealed class RateLimiterTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void OpsLimitRefusesAndResumesWhenTheTimerFires()
    {
        using var limiter = new RateLimiter(new IoRateLimit(OpsPerSecond: 10, OpsBurst: 2), _time);
        int resumed = 0;
        limiter.Resume = () => resumed++;
        Assert.True(limiter.TryConsume(4096));
        Assert.True(limiter.TryConsume(4096));
        Assert.False(limiter.TryConsume(4096));
        Assert.False(limiter.TryConsume(4096)); // a second refusal does not arm a second timer
        Assert.Equal(2UL, limiter.Throttled);
        Assert.Equal(1, _time.ActiveTimers);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal(0, resumed);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, resumed);
        Assert.True(limiter.TryConsume(4096));
    }

    [Fact]
    public void RefusalByTheOpsBucketGivesTheBytesBack()
    {
        using var limiter = new RateLimiter(new IoRateLimit(BytesPerSecond: 1000, OpsPerSecond: 1, BytesBurst: 1000, OpsBurst: 1), _time);
        Assert.True(limiter.TryConsume(400));
        Assert.False(limiter.TryConsume(400)); // no op token; the 400 bytes must not be lost
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.TryConsume(1000)); // the bytes bucket is full again, not 400 short
    }

    [Fact]
    public void BytesLimitHoldsTheRateOverManyRequests()
    {
        using var limiter = new RateLimiter(new IoRateLimit(BytesPerSecond: 1 << 20), _time);
        ulong moved = 0;
        for (int step = 0; step < 1000; step++)
        {
            while (limiter.TryConsume(4096))
            {
                moved += 4096;
            }

            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        // 10 s at 1 MiB/s plus the initial burst of a tenth of a second.
        double expected = (10 * (1 << 20)) + ((1 << 20) / 10.0);
        Assert.InRange(moved, expected * 0.98, expected * 1.02);
    }

    [Fact]
    public void NoResumeAfterDispose()
    {
        var limiter = new RateLimiter(new IoRateLimit(OpsPerSecond: 1, OpsBurst: 1), _time);
        int resumed = 0;
        limiter.Resume = () => resumed++;
        Assert.True(limiter.TryConsume(1));
        Assert.False(limiter.TryConsume(1));
        limiter.Dispose();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, resumed);
    }
}
