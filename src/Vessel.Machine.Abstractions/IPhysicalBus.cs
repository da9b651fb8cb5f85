namespace Vessel.Machine.Abstractions;

/// <summary>
/// The part of the physical address space that is not RAM, as a hart sees it: MMIO devices.
/// Harts reach RAM directly through <see cref="GuestMemory"/>; everything else comes here (the slow path).
/// </summary>
public interface IPhysicalBus
{
    bool Read(ulong address, int size, out ulong value);

    bool Write(ulong address, int size, ulong value);
}
