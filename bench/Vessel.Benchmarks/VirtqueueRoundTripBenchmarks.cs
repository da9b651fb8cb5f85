using BenchmarkDotNet.Attributes;
using Vessel.Devices.Virtio;
using Vessel.Machine.Abstractions;

namespace Vessel.Benchmarks;

/// <summary>
/// One request through a split virtqueue (virtio 1.2 §2.7): the driver side writes a two-descriptor chain and
/// publishes it in the available ring; the device pops it (walking and bounds-checking the chain) and pushes it to
/// the used ring — the per-request cost every virtio device pays, with no device work.
/// </summary>
[MemoryDiagnoser]
public class VirtqueueRoundTripBenchmarks
{
    private const ulong RamBase = 0x8000_0000;
    private const ushort QueueSize = 256;
    private const ulong Descriptors = RamBase;
    private const ulong Available = RamBase + 0x1000;
    private const ulong Used = RamBase + 0x2000;
    private const ulong Buffers = RamBase + 0x10000;
    private const ushort Next = 1, Write = 2;

    private GuestMemory _memory = null!;
    private Virtqueue _queue = null!;
    private ushort _availableIndex;

    [GlobalSetup]
    public void Setup()
    {
        _memory = new GuestMemory(RamBase, 1 << 20);
        _queue = new Virtqueue(_memory, QueueSize)
        {
            Size = QueueSize,
            DescriptorTable = Descriptors,
            AvailableRing = Available,
            UsedRing = Used,
            Ready = true,
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _memory.Dispose();

    [Benchmark]
    public uint RoundTrip()
    {
        // Driver: descriptors 0 (16-byte header, device-readable) -> 1 (4 KiB, device-writable).
        ushort head = (ushort)((_availableIndex * 2) % QueueSize);
        WriteDescriptor(head, Buffers, 16, Next, (ushort)(head + 1));
        WriteDescriptor((ushort)(head + 1), Buffers + 0x1000, 4096, Write, 0);
        _memory.WriteUInt16(Available + 4 + (2UL * (ulong)(_availableIndex % QueueSize)), head);
        _availableIndex++;
        _memory.WriteUInt16(Available + 2, _availableIndex);

        // Device: pop the chain, "complete" it with 4 KiB written.
        if (!_queue.TryPop(out ushort popped, out var chain) || chain.Length != 2)
        {
            throw new InvalidOperationException("the posted chain did not come back");
        }

        _queue.Push(popped, chain[1].Length);

        // Driver: read the used ring's newest entry.
        return _memory.ReadUInt32(Used + 4 + (8UL * (ulong)((_availableIndex - 1) % QueueSize)) + 4);
    }

    private void WriteDescriptor(ushort index, ulong address, uint length, ushort flags, ushort next)
    {
        ulong entry = Descriptors + (16UL * index);
        _memory.WriteUInt64(entry, address);
        _memory.WriteUInt32(entry + 8, length);
        _memory.WriteUInt16(entry + 12, flags);
        _memory.WriteUInt16(entry + 14, next);
    }
}
