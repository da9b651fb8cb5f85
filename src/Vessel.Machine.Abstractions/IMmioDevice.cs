namespace Vessel.Machine.Abstractions;

/// <summary>A memory-mapped device: reads and writes of 1, 2, 4 or 8 bytes at an offset in its window.</summary>
public interface IMmioDevice
{
    /// <summary>Reads <paramref name="size"/> bytes at <paramref name="offset"/>; false means the access faults.</summary>
    bool Read(ulong offset, int size, out ulong value);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/>; false means the access faults.</summary>
    bool Write(ulong offset, int size, ulong value);
}
