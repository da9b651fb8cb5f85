namespace Vessel.Machine.Abstractions.State;

/// <summary>A device whose state goes into a machine snapshot, as one section of its own (DESIGN.md §5).</summary>
public interface IStatefulDevice
{
    void SaveState(StateWriter writer);

    /// <summary>Replaces the device's state; throws <see cref="MachineStateException"/> for a state it cannot take.</summary>
    void LoadState(StateReader reader);
}
