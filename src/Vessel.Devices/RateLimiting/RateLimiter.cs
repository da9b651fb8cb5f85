namespace Vessel.Devices.RateLimiting;

/// <summary>
/// One device direction's limiter: a bytes bucket and an operations bucket (either may be absent). A request goes
/// ahead only when both have tokens; otherwise the device puts the request back and <see cref="Resume"/> runs when
/// the tokens are expected (a limited request is delayed, never failed — like Firecracker's rate limiter).
/// Allocation-free on the hot path; used under the owning transport's lock.
/// </summary>
public sealed class RateLimiter : IDisposable
{
    private readonly TokenBucket? _bytes;
    private readonly TokenBucket? _ops;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private Action? _resume;
    private bool _timerArmed;
    private bool _disposed;

    public RateLimiter(IoRateLimit limit, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        Limit = limit;
        if (limit.BytesPerSecond != 0)
        {
            _bytes = new TokenBucket(limit.BytesPerSecond, limit.EffectiveBytesBurst, time);
        }

        if (limit.OpsPerSecond != 0)
        {
            _ops = new TokenBucket(limit.OpsPerSecond, limit.EffectiveOpsBurst, time);
        }

        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public IoRateLimit Limit { get; }

    /// <summary>Times a request found too few tokens and was put back to wait.</summary>
    public ulong Throttled { get; private set; }

    /// <summary>What to run when tokens are back (the device re-runs its queue through its transport).</summary>
    public Action? Resume
    {
        get => _resume;
        set => _resume = value;
    }

    /// <summary>Takes tokens for one operation of <paramref name="bytes"/>; false (and a resume scheduled) when it must wait.</summary>
    public bool TryConsume(ulong bytes)
    {
        if (_bytes is not null && !_bytes.TryConsume(bytes))
        {
            Schedule(_bytes.TimeUntilAvailable(bytes));
            return false;
        }

        if (_ops is not null && !_ops.TryConsume(1))
        {
            _bytes?.Return(bytes);
            Schedule(_ops.TimeUntilAvailable(1));
            return false;
        }

        return true;
    }

    /// <summary>Gives back the tokens of an operation that was admitted but could not run (e.g. no receive buffers).</summary>
    public void Refund(ulong bytes)
    {
        _bytes?.Return(bytes);
        _ops?.Return(1);
    }

    private void Schedule(TimeSpan wait)
    {
        Throttled++;
        lock (_timer)
        {
            if (_timerArmed)
            {
                return;
            }

            _timerArmed = true;
        }

        // At least 1 ms so a rounding error cannot spin the timer.
        _timer.Change(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        lock (_timer)
        {
            _timerArmed = false;
        }

        // Held while resuming so Dispose waits for a callback in flight: after it, nothing touches the device's RAM.
        lock (_gate)
        {
            if (!_disposed)
            {
                _resume?.Invoke();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }
}
