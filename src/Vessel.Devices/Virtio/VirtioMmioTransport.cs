using System.Buffers.Binary;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices.Virtio;

/// <summary>
/// The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2): identification, feature negotiation, queue setup,
/// notification, interrupt status/acknowledge, device status and the config window at 0x100. A driver that
/// breaks the queue rules gets DEVICE_NEEDS_RESET and a config-change interrupt; the host is never at risk.
/// </summary>
public sealed class VirtioMmioTransport : IMmioDevice, IVirtqueueRunner, IStatefulDevice
{
    private const uint Magic = 0x7472_6976; // "virt"
    private const uint VendorId = 0x554D_4551; // "QEMU", as QEMU's devices report
    private const uint StatusFeaturesOk = 8;
    private const uint StatusDriverOk = 4;
    private const uint StatusNeedsReset = 64;
    private const uint InterruptUsedBuffer = 1;
    private const uint InterruptConfigChange = 2;

    private readonly IVirtioDevice _device;
    private readonly IInterruptLine _irq;
    private readonly Virtqueue[] _queues;
    private readonly object _lock = new();
    private uint _deviceFeaturesSelect;
    private uint _driverFeaturesSelect;
    private ulong _driverFeatures;
    private uint _queueSelect;
    private uint _interruptStatus;
    private uint _status;
    private uint _configGeneration;
    private int _pendingQueues;

    public VirtioMmioTransport(IVirtioDevice device, GuestMemory memory, IInterruptLine irq)
    {
        _device = device;
        _irq = irq;
        _queues = new Virtqueue[device.QueueCount];
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = new Virtqueue(memory, device.QueueMaxSize);
        }

        device.Connect(this);
    }

    public IVirtioDevice Device => _device;

    /// <summary>Why the device asked for a reset, if it did.</summary>
    public string? NeedsResetReason { get; private set; }

    private ulong OfferedFeatures => _device.Features | VirtioFeatures.Version1;

    public bool Read(ulong offset, int size, out ulong value)
    {
        bool handled = ReadLocked(offset, size, out value);
        DrainPendingQueues();
        return handled;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        bool handled = WriteLocked(offset, size, value);
        DrainPendingQueues();
        return handled;
    }

    /// <summary>
    /// Processes queue <paramref name="index"/> on behalf of the device, from any thread (e.g. a frame arrived for
    /// the receive queue). Never blocks: when another thread holds the transport, that thread runs the queue as it
    /// leaves, so a backend that calls in while holding its own lock cannot deadlock against a hart.
    /// </summary>
    public void RunQueue(int index)
    {
        if ((uint)index >= (uint)_queues.Length)
        {
            return;
        }

        Interlocked.Or(ref _pendingQueues, 1 << index);
        DrainPendingQueues();
    }

    /// <summary>
    /// Tells the driver the device configuration changed (§4.2.2: config-change interrupt, generation bumped), for
    /// a host-side change such as a new balloon target; nothing happens before the driver is up (DRIVER_OK).
    /// </summary>
    public void SignalConfigChange()
    {
        lock (_lock)
        {
            if ((_status & StatusDriverOk) == 0)
            {
                return;
            }

            _configGeneration++;
            _interruptStatus |= InterruptConfigChange;
            UpdateIrq();
        }
    }

    private void DrainPendingQueues()
    {
        // Re-check after releasing: a RunQueue whose TryEnter failed set its bit before trying, so the holder sees it.
        while (Volatile.Read(ref _pendingQueues) != 0 && Monitor.TryEnter(_lock))
        {
            try
            {
                int pending = Interlocked.Exchange(ref _pendingQueues, 0);
                for (int i = 0; pending != 0; i++, pending >>= 1)
                {
                    if ((pending & 1) != 0)
                    {
                        Process(i);
                    }
                }
            }
            finally
            {
                Monitor.Exit(_lock);
            }
        }
    }

    private bool ReadLocked(ulong offset, int size, out ulong value)
    {
        value = 0;
        lock (_lock)
        {
            if (offset >= 0x100)
            {
                var config = _device.Config;
                int at = (int)(offset - 0x100);
                if (size is 1 or 2 or 4 or 8 && at + size <= config.Length)
                {
                    Span<byte> bytes = stackalloc byte[8];
                    config.Slice(at, size).CopyTo(bytes);
                    value = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
                }

                return true;
            }

            if (size != 4)
            {
                return false;
            }

            var q = SelectedQueue;
            value = offset switch
            {
                0x000 => Magic,
                0x004 => 2,
                0x008 => _device.DeviceId,
                0x00C => VendorId,
                0x010 => _deviceFeaturesSelect switch
                {
                    0 => (uint)OfferedFeatures,
                    1 => (uint)(OfferedFeatures >> 32),
                    _ => 0,
                },
                0x034 => q is null ? 0u : (uint)q.MaxSize,
                0x044 => q is { Ready: true } ? 1u : 0u,
                0x060 => _interruptStatus,
                0x070 => _status,
                0x0FC => _configGeneration,
                _ => 0,
            };
        }

        return true;
    }

    private bool WriteLocked(ulong offset, int size, ulong value)
    {
        uint v = (uint)value;
        lock (_lock)
        {
            if (offset >= 0x100)
            {
                // Driver-writable config fields (e.g. virtio-balloon's actual, §5.5.4); the device checks the range.
                if (size is 1 or 2 or 4 or 8)
                {
                    Span<byte> bytes = stackalloc byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
                    _device.WriteConfig((int)Math.Min(offset - 0x100, int.MaxValue), bytes[..size]);
                }

                return true;
            }

            if (size != 4)
            {
                return false;
            }

            var q = SelectedQueue;
            switch (offset)
            {
                case 0x014: _deviceFeaturesSelect = v; break;
                case 0x020:
                    if (_driverFeaturesSelect < 2)
                    {
                        int shift = 32 * (int)_driverFeaturesSelect;
                        _driverFeatures = (_driverFeatures & ~(0xFFFF_FFFFUL << shift)) | ((ulong)v << shift);
                    }

                    break;
                case 0x024: _driverFeaturesSelect = v; break;
                case 0x030: _queueSelect = v; break;
                case 0x038:
                    if (q is not null && v <= (uint)q.MaxSize && v != 0 && (v & (v - 1)) == 0)
                    {
                        q.Size = (ushort)v;
                    }

                    break;
                case 0x044:
                    if (q is not null)
                    {
                        q.Ready = v == 1;
                    }

                    break;
                case 0x050: Process((int)v); break;
                case 0x064:
                    _interruptStatus &= ~v;
                    UpdateIrq();
                    break;
                case 0x070: WriteStatus(v); break;
                case 0x080: SetLow(q, v, (qq, x) => qq.DescriptorTable = x, qq => qq.DescriptorTable); break;
                case 0x084: SetHigh(q, v, (qq, x) => qq.DescriptorTable = x, qq => qq.DescriptorTable); break;
                case 0x090: SetLow(q, v, (qq, x) => qq.AvailableRing = x, qq => qq.AvailableRing); break;
                case 0x094: SetHigh(q, v, (qq, x) => qq.AvailableRing = x, qq => qq.AvailableRing); break;
                case 0x0A0: SetLow(q, v, (qq, x) => qq.UsedRing = x, qq => qq.UsedRing); break;
                case 0x0A4: SetHigh(q, v, (qq, x) => qq.UsedRing = x, qq => qq.UsedRing); break;
            }
        }

        return true;
    }

    private Virtqueue? SelectedQueue => _queueSelect < (uint)_queues.Length ? _queues[_queueSelect] : null;

    private static void SetLow(Virtqueue? q, uint v, Action<Virtqueue, ulong> set, Func<Virtqueue, ulong> get)
    {
        if (q is not null)
        {
            set(q, (get(q) & 0xFFFF_FFFF_0000_0000) | v);
        }
    }

    private static void SetHigh(Virtqueue? q, uint v, Action<Virtqueue, ulong> set, Func<Virtqueue, ulong> get)
    {
        if (q is not null)
        {
            set(q, (get(q) & 0xFFFF_FFFF) | ((ulong)v << 32));
        }
    }

    private void WriteStatus(uint v)
    {
        if (v == 0)
        {
            // Device reset (§4.2.3.1): forget everything the driver set up.
            _status = 0;
            _driverFeatures = 0;
            _interruptStatus = 0;
            NeedsResetReason = null;
            foreach (var q in _queues)
            {
                q.Reset();
            }

            _device.Reset();
            UpdateIrq();
            return;
        }

        if ((v & StatusFeaturesOk) != 0 && (_status & StatusFeaturesOk) == 0)
        {
            // Accept only a subset of what was offered, and it must include VERSION_1 (§3.1.1).
            bool acceptable = (_driverFeatures & ~OfferedFeatures) == 0 && (_driverFeatures & VirtioFeatures.Version1) != 0;
            if (!acceptable)
            {
                v &= ~StatusFeaturesOk;
            }
        }

        if ((v & StatusDriverOk) != 0 && (_status & StatusDriverOk) == 0)
        {
            foreach (var q in _queues)
            {
                q.EventIndex = (_driverFeatures & VirtioFeatures.RingEventIndex) != 0;
                q.IndirectDescriptors = (_driverFeatures & VirtioFeatures.RingIndirectDescriptors) != 0;
            }

            _device.Activate(_driverFeatures);
        }

        _status = v | (_status & StatusNeedsReset);
    }

    /// <summary>Runs the device on one queue and interrupts the driver if it wants to know; caller holds the lock.</summary>
    private void Process(int index)
    {
        if ((uint)index >= (uint)_queues.Length || (_status & StatusDriverOk) == 0 || (_status & StatusNeedsReset) != 0)
        {
            return;
        }

        var q = _queues[index];
        if (!q.Ready)
        {
            return;
        }

        try
        {
            _device.ProcessQueue(index, q);
            if (q.ShouldNotify())
            {
                _interruptStatus |= InterruptUsedBuffer;
                UpdateIrq();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A driver breaking the queue rules (VirtqueueException) or a device bug: this device stops and asks
            // for a reset (§2.1.2); the VM and the host carry on.
            NeedsResetReason = e is VirtqueueException ? e.Message : $"device error: {e.GetType().Name}: {e.Message}";
            _status |= StatusNeedsReset;
            _configGeneration++;
            _interruptStatus |= InterruptConfigChange;
            UpdateIrq();
        }
    }

    private void UpdateIrq() => _irq.Set(_interruptStatus != 0);

    /// <summary>Saves the transport registers (status, features, selectors), every queue and then the device's own state.</summary>
    public void SaveState(StateWriter writer)
    {
        lock (_lock)
        {
            writer.BeginSection($"virtio-mmio:{_device.DeviceId}", 1);
            writer.WriteUInt32(_deviceFeaturesSelect);
            writer.WriteUInt32(_driverFeaturesSelect);
            writer.WriteUInt64(_driverFeatures);
            writer.WriteUInt32(_queueSelect);
            writer.WriteUInt32(_interruptStatus);
            writer.WriteUInt32(_status);
            writer.WriteUInt32(_configGeneration);
            writer.WriteString(NeedsResetReason ?? "");
            writer.WriteInt32(_queues.Length);
            foreach (var q in _queues)
            {
                q.SaveState(writer);
            }

            writer.BeginSection("device", 1);
            _device.SaveState(writer);
            writer.EndSection();
            writer.EndSection();
        }
    }

    public void LoadState(StateReader reader)
    {
        lock (_lock)
        {
            reader.BeginSection($"virtio-mmio:{_device.DeviceId}", 1);
            _deviceFeaturesSelect = reader.ReadUInt32();
            _driverFeaturesSelect = reader.ReadUInt32();
            _driverFeatures = reader.ReadUInt64();
            _queueSelect = reader.ReadUInt32();
            _interruptStatus = reader.ReadUInt32();
            _status = reader.ReadUInt32();
            _configGeneration = reader.ReadUInt32();
            string reason = reader.ReadString();
            NeedsResetReason = reason.Length == 0 ? null : reason;
            int queues = reader.ReadInt32();
            reader.Require(queues == _queues.Length, $"{queues} queues where this device has {_queues.Length}");
            foreach (var q in _queues)
            {
                q.LoadState(reader);
            }

            // The device forgets what it had and is activated as the driver left it (§3.1.1 DRIVER_OK).
            _device.Reset();
            if ((_status & StatusDriverOk) != 0)
            {
                _device.Activate(_driverFeatures);
            }

            reader.BeginSection("device", 1);
            _device.LoadState(reader);
            reader.EndSection();
            reader.EndSection();
            UpdateIrq();
        }
    }
}
