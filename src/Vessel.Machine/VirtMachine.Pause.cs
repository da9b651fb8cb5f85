namespace Vessel.Machine;

/// <summary>Pause/resume: every hart parks at a slice boundary and the guest clock stops, so the guest sees no time pass.</summary>
public sealed partial class VirtMachine
{
    private readonly object _pauseLock = new();
    private bool _running;
    private volatile bool _pauseRequested;
    private int _parkedHarts;

    /// <summary>True between <see cref="Pause"/> and <see cref="Resume"/>.</summary>
    public bool IsPaused => _pauseRequested;

    /// <summary>
    /// Stops every hart at its next slice boundary (or wakes it from WFI) and returns once all are parked, then
    /// freezes mtime. Returns false if the machine finished before every hart parked. Idempotent.
    /// </summary>
    public bool Pause(TimeSpan? timeout = null)
    {
        lock (_pauseLock)
        {
            _pauseRequested = true;
            foreach (var hart in _harts)
            {
                hart.Stop(); // leaves the current slice (or WFI park) early; Run clears it on the way out
            }

            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
            while (Volatile.Read(ref _running) && !_stopping && _parkedHarts < _harts.Length)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"only {_parkedHarts} of {_harts.Length} harts parked within the pause timeout.");
                }

                Monitor.Wait(_pauseLock, 20);
            }

            Clock.Freeze();
            return !_stopping;
        }
    }

    /// <summary>Lets parked harts go on; mtime continues from where it stopped.</summary>
    public void Resume()
    {
        lock (_pauseLock)
        {
            if (!_pauseRequested)
            {
                return;
            }

            Clock.Thaw();
            _pauseRequested = false;
            Monitor.PulseAll(_pauseLock);
        }
    }

    /// <summary>Called by each hart thread between slices: waits while a pause is in force.</summary>
    private void ParkWhilePaused()
    {
        if (!_pauseRequested)
        {
            return;
        }

        lock (_pauseLock)
        {
            _parkedHarts++;
            Monitor.PulseAll(_pauseLock);
            while (_pauseRequested && !_stopping)
            {
                Monitor.Wait(_pauseLock);
            }

            _parkedHarts--;
        }
    }

    private void ReleasePausedHarts()
    {
        lock (_pauseLock)
        {
            Monitor.PulseAll(_pauseLock);
        }
    }
}
