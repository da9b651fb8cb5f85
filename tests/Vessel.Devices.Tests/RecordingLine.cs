using Vessel.Machine.Abstractions;

namespace Vessel.Devices.Tests;

/// <summary>An interrupt line test double that remembers its level and how often it changed; safe from any thread.</summary>
internal sealed class RecordingLine : IInterruptLine
{
    private readonly Lock _lock = new();
    private bool _level;
    private int _changes;

    public bool Level
    {
        get
        {
            lock (_lock)
            {
                return _level;
            }
        }
    }

    public int Changes
    {
        get
        {
            lock (_lock)
            {
                return _changes;
            }
        }
    }

    public void Set(bool asserted)
    {
        lock (_lock)
        {
            if (asserted != _level)
            {
                _changes++;
            }

            _level = asserted;
        }
    }
}
