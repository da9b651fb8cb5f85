using Vessel.Machine.Abstractions;

namespace Vessel.Devices.Tests;

/// <summary>An interrupt line test double that remembers its level and how often it changed.</summary>
internal sealed class RecordingLine : IInterruptLine
{
    public bool Level { get; private set; }

    public int Changes { get; private set; }

    public void Set(bool asserted)
    {
        if (asserted != Level)
        {
            Changes++;
        }

        Level = asserted;
    }
}
