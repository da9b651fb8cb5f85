using System.Diagnostics;

namespace Vessel.Machine.Abstractions;

/// <summary>
/// The platform timer's time base (mtime). By default it follows the host's monotonic clock at
/// <see cref="Frequency"/> ticks per second (10 MHz, like QEMU's virt). In deterministic mode time advances
/// only when <see cref="Advance"/> is called, e.g. per instructions executed, so runs are reproducible.
/// </summary>
public sealed class MachineClock
{
    public const ulong DefaultFrequency = 10_000_000;

    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private long _offset;
    private long _deterministicTicks;
    private bool _frozen;
    private ulong _frozenAt;

    public MachineClock(bool deterministic = false, ulong frequency = DefaultFrequency)
    {
        Deterministic = deterministic;
        Frequency = frequency;
    }

    public bool Deterministic { get; }

    public ulong Frequency { get; }

    /// <summary>Current mtime value.</summary>
    public ulong Now
    {
        get
        {
            if (Volatile.Read(ref _frozen))
            {
                return Volatile.Read(ref _frozenAt);
            }

            long ticks = Deterministic
                ? Volatile.Read(ref _deterministicTicks)
                : (long)((UInt128)(ulong)(Stopwatch.GetTimestamp() - _startTimestamp) * Frequency / (ulong)Stopwatch.Frequency);
            return (ulong)(ticks + Volatile.Read(ref _offset));
        }
    }

    /// <summary>Sets mtime (a guest write to the mtime register) by shifting the offset.</summary>
    public void Set(ulong value)
    {
        if (Volatile.Read(ref _frozen))
        {
            Volatile.Write(ref _frozenAt, value);
            return;
        }

        Volatile.Write(ref _offset, 0);
        Volatile.Write(ref _offset, (long)(value - Now));
    }

    /// <summary>Stops time (a paused machine): the guest must see no time pass while it is paused.</summary>
    public void Freeze()
    {
        if (!_frozen)
        {
            Volatile.Write(ref _frozenAt, Now);
            Volatile.Write(ref _frozen, true);
        }
    }

    /// <summary>Lets time run again from where <see cref="Freeze"/> stopped it.</summary>
    public void Thaw()
    {
        if (_frozen)
        {
            ulong at = _frozenAt;
            Volatile.Write(ref _frozen, false);
            Set(at);
        }
    }

    public bool IsFrozen => Volatile.Read(ref _frozen);

    /// <summary>Advances deterministic time; ignored for the host-clocked mode.</summary>
    public void Advance(ulong ticks)
    {
        if (Deterministic)
        {
            Interlocked.Add(ref _deterministicTicks, (long)ticks);
        }
    }

    /// <summary>Host time until mtime reaches <paramref name="target"/>, for parking an idle hart.</summary>
    public TimeSpan TimeUntil(ulong target)
    {
        ulong now = Now;
        if (target <= now)
        {
            return TimeSpan.Zero;
        }

        ulong ticks = target - now;
        double seconds = (double)ticks / Frequency;
        return seconds > 3600 ? TimeSpan.FromHours(1) : TimeSpan.FromSeconds(seconds);
    }
}
