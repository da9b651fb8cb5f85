namespace Vessel.Devices.RateLimiting;

/// <summary>
/// A token bucket (the model of Firecracker's rate limiter): it holds up to <see cref="Capacity"/> tokens and refills
/// at <see cref="RatePerSecond"/>. A request larger than the whole bucket is let through when the bucket is full and
/// leaves it in debt, so a large request is slowed, never refused forever. Allocation-free; not thread-safe (a
/// device consumes from its own buckets under its transport's lock).
/// </summary>
public sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(ulong ratePerSecond, ulong capacity, TimeProvider time)
    {
        if (ratePerSecond == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ratePerSecond), "a token bucket needs a rate above zero");
        }

        RatePerSecond = ratePerSecond;
        Capacity = Math.Max(1, capacity);
        _time = time;
        _tokens = Capacity;
        _lastRefill = time.GetTimestamp();
    }

    public ulong RatePerSecond { get; }

    public ulong Capacity { get; }

    /// <summary>Tokens available now (negative while paying off a request larger than the bucket).</summary>
    public double Tokens
    {
        get
        {
            Refill();
            return _tokens;
        }
    }

    /// <summary>Takes <paramref name="amount"/> tokens if there are enough (or the bucket is full); false otherwise.</summary>
    public bool TryConsume(ulong amount)
    {
        Refill();
        if (_tokens >= amount || _tokens >= Capacity)
        {
            _tokens -= amount;
            return true;
        }

        return false;
    }

    /// <summary>Puts back tokens taken for a request that then did not go ahead (another bucket refused it).</summary>
    public void Return(ulong amount) => _tokens = Math.Min(Capacity, _tokens + amount);

    /// <summary>How long until <see cref="TryConsume"/> of <paramref name="amount"/> would succeed.</summary>
    public TimeSpan TimeUntilAvailable(ulong amount)
    {
        Refill();
        double needed = Math.Min((double)amount, Capacity) - _tokens;
        return needed <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(needed / RatePerSecond);
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        long elapsed = now - _lastRefill;
        if (elapsed <= 0)
        {
            return;
        }

        _lastRefill = now;
        _tokens = Math.Min(Capacity, _tokens + ((double)elapsed / _time.TimestampFrequency * RatePerSecond));
    }
}
