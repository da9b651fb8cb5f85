using Vessel.Machine.Abstractions;

namespace Vessel.Machine;

/// <summary>
/// The non-RAM part of the physical address space: MMIO windows, looked up by address. A handful of windows,
/// so a linear scan beats anything cleverer; unmapped addresses fault.
/// </summary>
public sealed class SystemBus : IPhysicalBus
{
    private readonly List<(ulong Base, ulong Size, IMmioDevice Device)> _windows = [];

    public void Map(ulong baseAddress, ulong size, IMmioDevice device)
    {
        foreach (var w in _windows)
        {
            if (baseAddress < w.Base + w.Size && w.Base < baseAddress + size)
            {
                throw new ArgumentException($"MMIO window 0x{baseAddress:x}+0x{size:x} overlaps 0x{w.Base:x}+0x{w.Size:x}.");
            }
        }

        _windows.Add((baseAddress, size, device));
    }

    public bool Read(ulong address, int size, out ulong value)
    {
        foreach (var (b, s, device) in _windows)
        {
            if (address - b < s && address - b + (ulong)size <= s)
            {
                return device.Read(address - b, size, out value);
            }
        }

        value = 0;
        return false;
    }

    public bool Write(ulong address, int size, ulong value)
    {
        foreach (var (b, s, device) in _windows)
        {
            if (address - b < s && address - b + (ulong)size <= s)
            {
                return device.Write(address - b, size, value);
            }
        }

        return false;
    }
}
