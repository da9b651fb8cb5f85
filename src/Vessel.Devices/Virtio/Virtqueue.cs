using System.Buffers.Binary;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices.Virtio;

/// <summary>
/// A split virtqueue (virtio 1.2 §2.7): descriptor table, available ring and used ring in guest memory. The
/// device pops descriptor chains (following NEXT and INDIRECT, refusing loops and out-of-RAM buffers) and
/// pushes used elements; <see cref="ShouldNotify"/> applies VIRTIO_F_EVENT_IDX or the NO_INTERRUPT flag.
/// The segment buffer is reused, so popping a chain allocates nothing.
/// </summary>
public sealed class Virtqueue
{
    private const ushort DescriptorNext = 1;
    private const ushort DescriptorWrite = 2;
    private const ushort DescriptorIndirect = 4;
    private const ushort AvailableNoInterrupt = 1;

    private readonly GuestMemory _memory;
    private readonly VirtqueueSegment[] _segments;
    private ushort _lastAvailable;
    private ushort _usedIndex;
    private ushort _lastNotifiedUsed;

    public Virtqueue(GuestMemory memory, int maxSize)
    {
        _memory = memory;
        MaxSize = maxSize;
        _segments = new VirtqueueSegment[maxSize];
    }

    public int MaxSize { get; }

    public ushort Size { get; set; }

    public bool Ready { get; set; }

    public ulong DescriptorTable { get; set; }

    public ulong AvailableRing { get; set; }

    public ulong UsedRing { get; set; }

    public bool EventIndex { get; set; }

    public bool IndirectDescriptors { get; set; }

    public void Reset()
    {
        Size = 0;
        Ready = false;
        DescriptorTable = AvailableRing = UsedRing = 0;
        _lastAvailable = _usedIndex = _lastNotifiedUsed = 0;
    }

    /// <summary>
    /// Takes the next available chain. Returns false when none is available. Throws
    /// <see cref="VirtqueueException"/> for a malformed chain (the device must then ask for a reset).
    /// </summary>
    public bool TryPop(out ushort head, out ReadOnlySpan<VirtqueueSegment> chain)
    {
        head = 0;
        chain = default;
        if (!Ready || Size == 0)
        {
            return false;
        }

        ushort available = Read16(AvailableRing + 2);
        if (available == _lastAvailable)
        {
            if (!EventIndex)
            {
                return false;
            }

            // VIRTIO_F_EVENT_IDX (§2.7.10): publish avail_event = the next index we will read, so the driver
            // notifies for its next buffer; then look again in case it added one before seeing the update.
            Write16(UsedRing + 4 + (8UL * Size), _lastAvailable);
            Interlocked.MemoryBarrier();
            available = Read16(AvailableRing + 2);
            if (available == _lastAvailable)
            {
                return false;
            }
        }

        if ((ushort)(available - _lastAvailable) > Size)
        {
            throw new VirtqueueException($"available index moved by {(ushort)(available - _lastAvailable)} on a queue of {Size}");
        }

        head = Read16(AvailableRing + 4 + (2UL * (ulong)(_lastAvailable % Size)));
        _lastAvailable++;
        int count = Walk(head);
        chain = _segments.AsSpan(0, count);
        return true;
    }

    private int Walk(ushort head)
    {
        if (head >= Size)
        {
            throw new VirtqueueException($"descriptor index {head} is outside a queue of {Size}");
        }

        ulong table = DescriptorTable;
        int tableSize = Size;
        int index = head;
        int count = 0;
        bool inIndirect = false;
        // Each descriptor may be visited once: a longer walk means the chain loops (§2.7.5.3.1).
        for (int steps = 0; ; steps++)
        {
            if (steps >= tableSize || count >= _segments.Length)
            {
                throw new VirtqueueException("descriptor chain loops or is longer than the queue");
            }

            ulong entry = table + (16UL * (ulong)index);
            ulong address = Read64(entry);
            uint length = Read32(entry + 8);
            ushort flags = Read16(entry + 12);
            ushort next = Read16(entry + 14);
            if ((flags & DescriptorIndirect) != 0)
            {
                if (!IndirectDescriptors || inIndirect || (flags & DescriptorNext) != 0 || length % 16 != 0 || length == 0)
                {
                    throw new VirtqueueException("malformed indirect descriptor");
                }

                table = address;
                tableSize = (int)Math.Min(length / 16, 65536);
                CheckRange(table, (ulong)tableSize * 16);
                index = 0;
                inIndirect = true;
                steps = -1;
                continue;
            }

            CheckRange(address, length);
            _segments[count++] = new VirtqueueSegment(address, length, (flags & DescriptorWrite) != 0);
            if ((flags & DescriptorNext) == 0)
            {
                return count;
            }

            if (next >= tableSize)
            {
                throw new VirtqueueException($"next descriptor {next} is outside its table of {tableSize}");
            }

            index = next;
        }
    }

    /// <summary>
    /// Puts back the last <paramref name="count"/> popped chains unused, so the next pops return them again (a
    /// receive that found too few buffers for a whole frame waits for more instead of dropping it).
    /// </summary>
    public void UndoPop(int count) => _lastAvailable = (ushort)(_lastAvailable - count);

    /// <summary>Returns a chain to the driver with the number of bytes the device wrote into it.</summary>
    public void Push(ushort head, uint written)
    {
        ulong element = UsedRing + 4 + (8UL * (ulong)(_usedIndex % Size));
        Write32(element, head);
        Write32(element + 4, written);
        _usedIndex++;
        // The element must be visible before the index that publishes it (§2.7.8).
        Interlocked.MemoryBarrier();
        Write16(UsedRing + 2, _usedIndex);
    }

    /// <summary>Whether the driver wants an interrupt for the elements used since the last notification.</summary>
    public bool ShouldNotify()
    {
        Interlocked.MemoryBarrier();
        ushort old = _lastNotifiedUsed;
        ushort now = _usedIndex;
        _lastNotifiedUsed = now;
        if (old == now)
        {
            return false;
        }

        if (EventIndex)
        {
            // vring_need_event (§2.7.10): notify if used_event lies in [old, now).
            ushort usedEvent = Read16(AvailableRing + 4 + (2UL * Size));
            return (ushort)(now - usedEvent - 1) < (ushort)(now - old);
        }

        return (Read16(AvailableRing) & AvailableNoInterrupt) == 0;
    }

    private void CheckRange(ulong address, ulong length)
    {
        if (!_memory.Contains(address, length))
        {
            throw new VirtqueueException($"buffer 0x{address:x}+0x{length:x} is outside guest RAM");
        }
    }

    private Span<byte> Bytes(ulong address, int length)
    {
        if (!_memory.TryGetSpan(address, length, out var span))
        {
            throw new VirtqueueException($"ring address 0x{address:x} is outside guest RAM");
        }

        return span;
    }

    private ushort Read16(ulong a) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(a, 2));

    private uint Read32(ulong a) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(a, 4));

    private ulong Read64(ulong a) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(a, 8));

    private void Write16(ulong a, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes(a, 2), v);

    private void Write32(ulong a, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes(a, 4), v);

    public void SaveState(StateWriter writer)
    {
        writer.WriteUInt16(Size);
        writer.WriteBoolean(Ready);
        writer.WriteUInt64(DescriptorTable);
        writer.WriteUInt64(AvailableRing);
        writer.WriteUInt64(UsedRing);
        writer.WriteBoolean(EventIndex);
        writer.WriteBoolean(IndirectDescriptors);
        writer.WriteUInt16(_lastAvailable);
        writer.WriteUInt16(_usedIndex);
        writer.WriteUInt16(_lastNotifiedUsed);
    }

    public void LoadState(StateReader reader)
    {
        Size = reader.ReadUInt16();
        reader.Require(Size <= MaxSize, $"queue size {Size} exceeds the maximum {MaxSize}");
        Ready = reader.ReadBoolean();
        DescriptorTable = reader.ReadUInt64();
        AvailableRing = reader.ReadUInt64();
        UsedRing = reader.ReadUInt64();
        EventIndex = reader.ReadBoolean();
        IndirectDescriptors = reader.ReadBoolean();
        _lastAvailable = reader.ReadUInt16();
        _usedIndex = reader.ReadUInt16();
        _lastNotifiedUsed = reader.ReadUInt16();
    }
}
