using System.Buffers.Binary;
using Vessel.Machine.Abstractions;

namespace Vessel.Benchmarks;

/// <summary>Little-endian 16/32-bit guest RAM accesses for setting up benchmark state (GuestMemory has 64-bit ones).</summary>
internal static class GuestMemoryAccess
{
    public static void WriteUInt32(this GuestMemory memory, ulong address, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(memory.GetSpan(address, 4), value);

    public static void WriteUInt16(this GuestMemory memory, ulong address, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(memory.GetSpan(address, 2), value);

    public static uint ReadUInt32(this GuestMemory memory, ulong address) =>
        BinaryPrimitives.ReadUInt32LittleEndian(memory.GetSpan(address, 4));
}
