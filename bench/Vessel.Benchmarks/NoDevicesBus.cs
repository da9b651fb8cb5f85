using Vessel.Machine.Abstractions;

namespace Vessel.Benchmarks;

/// <summary>A bus with no devices: the benchmarks only touch RAM.</summary>
internal sealed class NoDevicesBus : IPhysicalBus
{
    public bool Read(ulong address, int size, out ulong value)
    {
        value = 0;
        return false;
    }

    public bool Write(ulong address, int size, ulong value) => false;
}
