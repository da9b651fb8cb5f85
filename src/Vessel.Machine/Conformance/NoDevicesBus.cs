using Vessel.Machine.Abstractions;

namespace Vessel.Machine.Conformance;

/// <summary>A physical address space with RAM only: every non-RAM access is an access fault.</summary>
public sealed class NoDevicesBus : IPhysicalBus
{
    public static readonly NoDevicesBus Instance = new();

    public bool Read(ulong address, int size, out ulong value)
    {
        value = 0;
        return false;
    }

    public bool Write(ulong address, int size, ulong value) => false;
}
