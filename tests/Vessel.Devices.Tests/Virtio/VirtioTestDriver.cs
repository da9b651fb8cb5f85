using System.Buffers.Binary;
using Vessel.Devices.Virtio;
using Vessel.Machine.Abstractions;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>
/// A minimal virtio-mmio guest driver for device tests (virtio 1.2 §3.1, §4.2.3): negotiates features, sets up
/// every queue in its own area of RAM, posts descriptor chains and reads the used ring back.
/// </summary>
internal sealed class VirtioTestDriver : IDisposable
{
    public const ulong Ram = 0x8000_0000;
    public const ushort Next = 1, Write = 2;
    private const int QueueSize = 16;

    private readonly ushort[] _availIndex;
    private readonly ushort[] _usedSeen;
    private readonly int[] _nextDescriptor;

    public VirtioTestDriver(Func<GuestMemory, IVirtioDevice> createDevice, int queues)
    {
        Memory = new GuestMemory(Ram, 4 << 20);
        Device = createDevice(Memory);
        Transport = new VirtioMmioTransport(Device, Memory, Irq);
        _availIndex = new ushort[queues];
        _usedSeen = new ushort[queues];
        _nextDescriptor = new int[queues];
    }

    public GuestMemory Memory { get; }

    public IVirtioDevice Device { get; }

    public VirtioMmioTransport Transport { get; }

    public RecordingLine Irq { get; } = new();

    /// <summary>A scratch buffer area for queue <paramref name="queue"/>'s data, 64 KiB per slot.</summary>
    public static ulong Buffer(int queue, int slot) => Ram + 0x10_0000 + ((ulong)queue * 0x10_0000) + ((ulong)slot * 0x1_0000);

    private static ulong Descriptors(int q) => Ram + (0x1_0000UL * (ulong)(q + 1));

    private static ulong Avail(int q) => Descriptors(q) + 0x1000;

    private static ulong Used(int q) => Descriptors(q) + 0x2000;

    public uint Reg(ulong offset)
    {
        Transport.Read(offset, 4, out ulong v);
        return (uint)v;
    }

    public void Set(ulong offset, ulong value) => Transport.Write(offset, 4, value);

    public ulong OfferedFeatures()
    {
        Set(0x014, 0);
        ulong low = Reg(0x010);
        Set(0x014, 1);
        return low | ((ulong)Reg(0x010) << 32);
    }

    /// <summary>Resets the device and brings it to DRIVER_OK with <paramref name="features"/> (VERSION_1 is added).</summary>
    public void Initialize(ulong features = 0)
    {
        features |= VirtioFeatures.Version1;
        Set(0x070, 0);
        Set(0x070, 1 | 2);
        Set(0x024, 0);
        Set(0x020, (uint)features);
        Set(0x024, 1);
        Set(0x020, (uint)(features >> 32));
        Set(0x070, 1 | 2 | 8);
        Assert.Equal(8u, Reg(0x070) & 8);
        for (int q = 0; q < _availIndex.Length; q++)
        {
            Set(0x030, (ulong)q);
            Set(0x038, QueueSize);
            Set(0x080, (uint)Descriptors(q));
            Set(0x084, Descriptors(q) >> 32);
            Set(0x090, (uint)Avail(q));
            Set(0x094, Avail(q) >> 32);
            Set(0x0A0, (uint)Used(q));
            Set(0x0A4, Used(q) >> 32);
            Set(0x044, 1);
        }

        Set(0x070, 1 | 2 | 8 | 4);
    }

    /// <summary>Posts a chain of (address, length, device-writable) buffers on a queue; optionally notifies.</summary>
    public ushort Post(int queue, (ulong Address, uint Length, bool Writable)[] buffers, bool notify = true)
    {
        ushort head = (ushort)(_nextDescriptor[queue] % QueueSize);
        for (int i = 0; i < buffers.Length; i++)
        {
            int index = (_nextDescriptor[queue] + i) % QueueSize;
            var d = Memory.GetSpan(Descriptors(queue) + (ulong)(16 * index), 16);
            ushort flags = (ushort)((buffers[i].Writable ? Write : 0) | (i + 1 < buffers.Length ? Next : 0));
            BinaryPrimitives.WriteUInt64LittleEndian(d, buffers[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(d[8..], buffers[i].Length);
            BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
            BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)((index + 1) % QueueSize));
        }

        _nextDescriptor[queue] += buffers.Length;
        ushort slot = (ushort)(_availIndex[queue] % QueueSize);
        BinaryPrimitives.WriteUInt16LittleEndian(Memory.GetSpan(Avail(queue) + 4 + (2UL * slot), 2), head);
        _availIndex[queue]++;
        BinaryPrimitives.WriteUInt16LittleEndian(Memory.GetSpan(Avail(queue) + 2, 2), _availIndex[queue]);
        if (notify)
        {
            Set(0x050, (ulong)queue);
        }

        return head;
    }

    /// <summary>Used elements (head, length) the device returned on <paramref name="queue"/> since the last call.</summary>
    public List<(ushort Head, uint Length)> TakeUsed(int queue)
    {
        var result = new List<(ushort, uint)>();
        ushort used = BinaryPrimitives.ReadUInt16LittleEndian(Memory.GetSpan(Used(queue) + 2, 2));
        while (_usedSeen[queue] != used)
        {
            var e = Memory.GetSpan(Used(queue) + 4 + (8UL * (ulong)(_usedSeen[queue] % QueueSize)), 8);
            result.Add(((ushort)BinaryPrimitives.ReadUInt32LittleEndian(e), BinaryPrimitives.ReadUInt32LittleEndian(e[4..])));
            _usedSeen[queue]++;
        }

        return result;
    }

    public bool NeedsReset => (Reg(0x070) & 64) != 0;

    public void Dispose() => Memory.Dispose();
}
