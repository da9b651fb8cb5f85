namespace Vessel.Machine.Abstractions;

/// <summary>A level-triggered interrupt wire from a device to an interrupt controller (or from it to a hart).</summary>
public interface IInterruptLine
{
    /// <summary>Drives the line high (<paramref name="asserted"/> true) or low. Safe to call from any thread.</summary>
    void Set(bool asserted);
}
