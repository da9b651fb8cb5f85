using System.Buffers.Binary;
using Vessel.Devices.Virtio;
using Vessel.Machine.Abstractions;

namespace Vessel.Devices.Tests.Virtio;

/// <summary>virtio-mmio + split virtqueue + virtio-blk, driven as a guest driver would (virtio 1.2 §3.1, §4.2, §5.2).</summary>
public sealed class VirtioBlockTests : IDisposable
{
    private const ulong Ram = 0x8000_0000;
    private const ulong Desc = Ram + 0x1000, Avail = Ram + 0x2000, Used = Ram + 0x3000;
    private const ulong Header = Ram + 0x4000, Data = Ram + 0x5000, Status = Ram + 0x8000;
    private const ushort Next = 1, Write = 2, Indirect = 4;

    private readonly GuestMemory _memory = new(Ram, 1 << 20);
    private readonly RecordingLine _irq = new();
    private readonly MemoryBlockBackend _disk;
    private readonly VirtioBlock _device;
    private readonly VirtioMmioTransport _transport;
    private ushort _availIndex;

    public VirtioBlockTests()
        : this(new MemoryBlockBackend(1 << 16), ioThread: false)
    {
    }

    private VirtioBlockTests(MemoryBlockBackend disk, bool ioThread)
    {
        _disk = disk;
        _device = new VirtioBlock(_disk, _memory, "serial-123", ioThread: ioThread);
        _transport = new VirtioMmioTransport(_device, _memory, _irq);
    }

    public void Dispose()
    {
        _device.Dispose();
        _memory.Dispose();
    }

    private uint Reg(ulong offset)
    {
        _transport.Read(offset, 4, out ulong v);
        return (uint)v;
    }

    private void Set(ulong offset, ulong value) => _transport.Write(offset, 4, value);

    private void Initialize(ulong driverFeatures = 1UL << 32)
    {
        Set(0x070, 0);
        Set(0x070, 1 | 2);
        Set(0x024, 0);
        Set(0x020, (uint)driverFeatures);
        Set(0x024, 1);
        Set(0x020, (uint)(driverFeatures >> 32));
        Set(0x070, 1 | 2 | 8);
        Assert.Equal(8u, Reg(0x070) & 8); // FEATURES_OK stuck
        Set(0x030, 0);
        Set(0x038, 16);
        Set(0x080, (uint)Desc);
        Set(0x084, Desc >> 32);
        Set(0x090, (uint)Avail);
        Set(0x094, Avail >> 32);
        Set(0x0A0, (uint)Used);
        Set(0x0A4, Used >> 32);
        Set(0x044, 1);
        Set(0x070, 1 | 2 | 8 | 4);
    }

    private void Descriptor(int index, ulong address, uint length, ushort flags, ushort next, ulong table = Desc)
    {
        var d = _memory.GetSpan(table + (ulong)(16 * index), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    private void RequestHeader(uint type, ulong sector)
    {
        var h = _memory.GetSpan(Header, 16);
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, type);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], sector);
    }

    private void Submit(ushort head)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_memory.GetSpan(Avail + 4 + (2UL * (ulong)(_availIndex % 16)), 2), head);
        _availIndex++;
        BinaryPrimitives.WriteUInt16LittleEndian(_memory.GetSpan(Avail + 2, 2), _availIndex);
        Set(0x050, 0);
    }

    private ushort UsedIndex => BinaryPrimitives.ReadUInt16LittleEndian(_memory.GetSpan(Used + 2, 2));

    private byte StatusByte => _memory.GetSpan(Status, 1)[0];

    [Fact]
    public void IdentifiesAsAVersion2BlockDevice()
    {
        Assert.Equal(0x7472_6976u, Reg(0x000));
        Assert.Equal(2u, Reg(0x004));
        Assert.Equal(2u, Reg(0x008));
        _transport.Read(0x100, 8, out ulong capacity);
        Assert.Equal((ulong)(1 << 16) / 512, capacity);
        Set(0x014, 1);
        Assert.Equal(1u, Reg(0x010) & 1); // VIRTIO_F_VERSION_1
    }

    [Fact]
    public void DriverWithoutVersion1IsRefusedFeaturesOk()
    {
        Set(0x070, 1 | 2);
        Set(0x024, 0);
        Set(0x020, 0);
        Set(0x070, 1 | 2 | 8);
        Assert.Equal(0u, Reg(0x070) & 8);
    }

    [Fact]
    public void WritesThenReadsSectors()
    {
        Initialize();
        _memory.GetSpan(Data, 1024).Fill(0xAB);
        RequestHeader(1, 3); // OUT, sector 3
        Descriptor(0, Header, 16, Next, 1);
        Descriptor(1, Data, 1024, Next, 2);
        Descriptor(2, Status, 1, Write, 0);
        Submit(0);
        Assert.Equal(1, UsedIndex);
        Assert.Equal(0, StatusByte);
        Assert.Equal(0xAB, _disk.Data[3 * 512]);
        Assert.Equal(0, _disk.Data[(3 * 512) - 1]);
        Assert.True(_irq.Level);
        Set(0x064, Reg(0x060));
        Assert.False(_irq.Level);

        _memory.GetSpan(Data, 1024).Clear();
        RequestHeader(0, 3); // IN
        Descriptor(1, Data, 512, Next | Write, 2);
        Submit(0);
        Assert.Equal(0xAB, _memory.GetSpan(Data, 1)[0]);
        uint usedLength = BinaryPrimitives.ReadUInt32LittleEndian(_memory.GetSpan(Used + 4 + 8 + 4, 4));
        Assert.Equal(513u, usedLength); // data + status byte
    }

    [Fact]
    public void WithAnIoThreadTheNotifyingHartDoesNotWaitForTheDisk()
    {
        using var gate = new ManualResetEventSlim(false);
        using var test = new VirtioBlockTests(new MemoryBlockBackend(1 << 16) { WriteGate = gate }, ioThread: true);
        test.Initialize();
        test._memory.GetSpan(Data, 512).Fill(0x5A);
        test.RequestHeader(1, 2);
        test.Descriptor(0, Header, 16, Next, 1);
        test.Descriptor(1, Data, 512, Next, 2);
        test.Descriptor(2, Status, 1, Write, 0);
        test._memory.GetSpan(Status, 1)[0] = 0xFF;

        test.Submit(0); // returns although the disk has not finished the write
        Assert.Equal(0, test.UsedIndex);
        Assert.False(test._irq.Level);

        gate.Set();
        Assert.True(SpinWait.SpinUntil(() => test.UsedIndex == 1 && test._irq.Level, TimeSpan.FromSeconds(10)));
        Assert.Equal(0, test.StatusByte);
        Assert.Equal(0x5A, test._disk.Data[2 * 512]);
        Assert.NotEqual(Thread.CurrentThread, test._disk.Writer);
        Assert.StartsWith("vessel-blk-", test._disk.Writer!.Name);
    }

    [Fact]
    public void FlushReachesTheBackendAndGetIdReturnsTheSerial()
    {
        Initialize();
        RequestHeader(4, 0);
        Descriptor(0, Header, 16, Next, 1);
        Descriptor(1, Status, 1, Write, 0);
        Submit(0);
        Assert.Equal(1, _disk.Flushes);

        RequestHeader(8, 0);
        Descriptor(1, Data, 20, Next | Write, 2);
        Descriptor(2, Status, 1, Write, 0);
        Submit(0);
        Assert.Equal("serial-123"u8.ToArray(), _memory.GetSpan(Data, 10).ToArray());
    }

    [Fact]
    public void OutOfRangeSectorsFailTheRequestOnly()
    {
        Initialize();
        RequestHeader(0, 1 << 20);
        Descriptor(0, Header, 16, Next, 1);
        Descriptor(1, Data, 512, Next | Write, 2);
        Descriptor(2, Status, 1, Write, 0);
        Submit(0);
        Assert.Equal(1, StatusByte); // IOERR
        Assert.Equal(0u, Reg(0x070) & 64);
    }

    [Fact]
    public void EventIndexPublishesAvailEventSoTheDriverKeepsNotifying()
    {
        Initialize((1UL << 32) | VirtioFeatures.RingEventIndex);
        RequestHeader(4, 0);
        Descriptor(0, Header, 16, Next, 1);
        Descriptor(1, Status, 1, Write, 0);
        Submit(0);
        Submit(0);
        ushort availEvent = BinaryPrimitives.ReadUInt16LittleEndian(_memory.GetSpan(Used + 4 + (8 * 16), 2));
        Assert.Equal(2, availEvent); // the next index the device will read
        Assert.Equal(2, UsedIndex);
    }

    [Fact]
    public void IndirectDescriptorsWork()
    {
        Initialize((1UL << 32) | VirtioFeatures.RingIndirectDescriptors);
        ulong table = Ram + 0x9000;
        _disk.Data[0] = 0x5A;
        RequestHeader(0, 0);
        Descriptor(0, Header, 16, Next, 1, table);
        Descriptor(1, Data, 512, Next | Write, 2, table);
        Descriptor(2, Status, 1, Write, 0, table);
        Descriptor(0, table, 48, Indirect, 0);
        Submit(0);
        Assert.Equal(0, StatusByte);
        Assert.Equal(0x5A, _memory.GetSpan(Data, 1)[0]);
    }

    [Theory]
    [InlineData(0x1_0000_0000UL)] // buffer outside RAM
    [InlineData(0UL)] // loop
    public void BadDescriptorsPutTheDeviceIntoNeedsReset(ulong address)
    {
        Initialize();
        RequestHeader(0, 0);
        if (address == 0)
        {
            Descriptor(0, Header, 16, Next, 1);
            Descriptor(1, Data, 16, Next, 0); // 0 -> 1 -> 0 ...
        }
        else
        {
            Descriptor(0, address, 16, 0, 0);
        }

        Submit(0);
        Assert.Equal(64u, Reg(0x070) & 64);
        Assert.Equal(2u, Reg(0x060) & 2); // config change interrupt
        Assert.NotNull(_transport.NeedsResetReason);

        Set(0x070, 0); // reset recovers
        Assert.Equal(0u, Reg(0x070));
    }

    [Fact]
    public void ReadOnlyDisksRefuseWrites()
    {
        var disk = new MemoryBlockBackend(4096, readOnly: true);
        var transport = new VirtioMmioTransport(new VirtioBlock(disk, _memory, "ro"), _memory, _irq);
        Assert.True(transport.Read(0x010, 4, out ulong features));
        Assert.NotEqual(0UL, features & (1UL << 5)); // VIRTIO_BLK_F_RO
    }
}
