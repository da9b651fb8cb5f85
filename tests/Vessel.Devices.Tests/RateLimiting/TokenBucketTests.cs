using Vessel.Devices.RateLimiting;

namespace Vessel.Devices.Tests.RateLimiting;

/// <summary>The token bucket on a manual clock: capacity, refill rate, debt for oversized requests, wait times.</summary>
public sealed class TokenBucketTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void StartsFullAndRefusesBeyondCapacity()
    {
        var bucket = new TokenBucket(ratePerSecond: 1000, capacity: 100, _time);
        Assert.True(bucket.TryConsume(60));
        Assert.True(bucket.TryConsume(40));
        Assert.False(bucket.TryConsume(1));
        Assert.Equal(0, bucket.Tokens, 6);
    }

    [Fact]
    public void RefillsAtItsRateUpToCapacity()
    {
        var bucket = new TokenBucket(1000, 100, _time);
        Assert.True(bucket.TryConsume(100));
        _time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(50, bucket.Tokens, 6);
        Assert.False(bucket.TryConsume(51));
        Assert.True(bucket.TryConsume(50));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(100, bucket.Tokens, 6); // never more than the burst
    }

    [Fact]
    public void OversizedRequestPassesWhenFullAndLeavesDebt()
    {
        var bucket = new TokenBucket(1000, 100, _time);
        Assert.True(bucket.TryConsume(300));
        Assert.Equal(-200, bucket.Tokens, 6);
        Assert.False(bucket.TryConsume(1));
        Assert.Equal(TimeSpan.FromMilliseconds(201), bucket.TimeUntilAvailable(1));
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.True(bucket.TryConsume(300)); // full again: the next big one goes too
    }

    [Fact]
    public void TimeUntilAvailableIsZeroWhenTokensAreThere()
    {
        var bucket = new TokenBucket(10, 10, _time);
        Assert.Equal(TimeSpan.Zero, bucket.TimeUntilAvailable(5));
        Assert.True(bucket.TryConsume(10));
        Assert.Equal(TimeSpan.FromMilliseconds(500), bucket.TimeUntilAvailable(5));
    }

    [Fact]
    public void ZeroRateIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(0, 10, _time));
}
