using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices;

/// <summary>
/// An NS16550A UART as QEMU's <c>serial</c> models it (National Semiconductor PC16550D datasheet; QEMU
/// <c>hw/char/serial.c</c>), driven by Linux's 8250 driver and OpenSBI's uart8250 with reg-shift 0 and
/// reg-io-width 1: RBR/THR/DLL, IER/DLM, IIR/FCR, LCR, MCR, LSR, MSR, SCR, one byte apart.
/// </summary>
/// <remarks>
/// Transmission is instant: each THR write hands the byte to the host and THR is empty again at once. Host input
/// waits in a backlog of up to <see cref="BacklogLimit"/> bytes and moves into the 16-byte receive FIFO (1 byte
/// with the FIFO off) as the guest drains it, so nothing is lost to overruns.
/// </remarks>
public sealed class Uart16550 : IMmioDevice, IStatefulDevice
{
    public const int BacklogLimit = 64 * 1024;
    public const int FifoSize = 16;

    /// <summary>QEMU maps 8 registers (8 &lt;&lt; reg-shift bytes); the rest of the 0x100 window faults.</summary>
    private const ulong RegisterSpan = 8;

    private const byte IerReceivedData = 0x01;
    private const byte IerTransmitEmpty = 0x02;
    private const byte IerLineStatus = 0x04;
    private const byte IerMask = 0x0F;
    private const byte IirNoInterrupt = 0x01;
    private const byte IirLineStatus = 0x06;
    private const byte IirReceivedData = 0x04;
    private const byte IirCharacterTimeout = 0x0C;
    private const byte IirTransmitEmpty = 0x02;
    private const byte IirFifosEnabled = 0xC0;
    private const byte FcrEnable = 0x01;
    private const byte FcrReceiverReset = 0x02;
    private const byte FcrTransmitterReset = 0x04;
    private const byte FcrStoredBits = 0xC9; // enable, DMA mode, trigger level
    private const byte LcrDivisorLatch = 0x80;
    private const byte McrOut2 = 0x08;
    private const byte McrLoopback = 0x10;
    private const byte McrMask = 0x1F;
    private const byte LsrDataReady = 0x01;
    private const byte LsrOverrun = 0x02;
    private const byte LsrThrEmpty = 0x20;
    private const byte LsrTransmitterEmpty = 0x40;
    private const byte MsrFixedInputs = 0xB0; // DCD, DSR and CTS asserted, no deltas, as QEMU reports
    private const ushort FromHost = 0x100;

    private readonly Lock _lock = new();
    private readonly Lock _transmitLock = new();
    private readonly IInterruptLine _irq;
    private readonly Action<byte> _transmit;
    private readonly Queue<byte> _backlog = new();
    private readonly ushort[] _fifo = new ushort[FifoSize]; // ring of received bytes; FromHost marks host input
    private int _fifoHead;
    private int _fifoCount;
    private int _fifoHostBytes;
    private byte _ier;
    private byte _lcr;
    private byte _mcr = McrOut2;
    private byte _fcr;
    private byte _scr;
    private byte _lsrErrors;
    private byte _lastReceived;
    private ushort _divisor = 0x0C; // 9600 baud, QEMU's reset value
    private bool _thrInterruptPending;
    private bool _irqAsserted;
    private bool _feederWaiting;

    public Uart16550(IInterruptLine irq, Action<byte> transmit)
    {
        ArgumentNullException.ThrowIfNull(irq);
        ArgumentNullException.ThrowIfNull(transmit);
        _irq = irq;
        _transmit = transmit;
        _irq.Set(false);
    }

    /// <summary>
    /// Raised (on the guest's thread, outside the device lock) when the guest has made room after
    /// <see cref="TryEnqueueInput"/> refused data, so a host feeder can retry.
    /// </summary>
    public event Action? ReadyForInput;

    /// <summary>True while the guest's driver has receive interrupts on: input sent now will be read.</summary>
    public bool ReceiverReady
    {
        get
        {
            lock (_lock)
            {
                return (_ier & IerReceivedData) != 0;
            }
        }
    }

    /// <summary>Bytes received from the host that the guest has not read yet (backlog and receive FIFO).</summary>
    public int InputBacklog
    {
        get
        {
            lock (_lock)
            {
                return HostBytesWaiting;
            }
        }
    }

    private int HostBytesWaiting => _backlog.Count + _fifoHostBytes;

    private bool Loopback => (_mcr & McrLoopback) != 0;

    private bool FifoEnabled => (_fcr & FcrEnable) != 0;

    private int FifoCapacity => FifoEnabled ? FifoSize : 1;

    /// <summary>FCR bits 7:6: the receive FIFO trigger level (datasheet table 5).</summary>
    private int TriggerLevel => (_fcr >> 6) switch
    {
        0 => 1,
        1 => 4,
        2 => 8,
        _ => 14,
    };

    /// <summary>
    /// Queues host input for the guest. All or nothing: false (nothing queued) when the backlog would pass
    /// <see cref="BacklogLimit"/>; wait for <see cref="ReadyForInput"/> and retry.
    /// </summary>
    public bool TryEnqueueInput(ReadOnlySpan<byte> data)
    {
        if (data.Length > BacklogLimit)
        {
            throw new ArgumentException($"At most {BacklogLimit} bytes can be queued at once.", nameof(data));
        }

        lock (_lock)
        {
            if (HostBytesWaiting + data.Length > BacklogLimit)
            {
                _feederWaiting = true;
                return false;
            }

            foreach (byte b in data)
            {
                _backlog.Enqueue(b);
            }

            FillReceiveFifo();
            UpdateInterrupt();
            return true;
        }
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (!IsValidAccess(offset, size))
        {
            return false;
        }

        bool roomForInput = false;
        lock (_lock)
        {
            bool divisorLatch = (_lcr & LcrDivisorLatch) != 0;
            switch (offset)
            {
                case 0:
                    value = divisorLatch ? (byte)_divisor : ReadReceiveBuffer(out roomForInput);
                    break;
                case 1:
                    value = divisorLatch ? (byte)(_divisor >> 8) : _ier;
                    break;
                case 2:
                    byte id = InterruptIdentification();
                    if (id == IirTransmitEmpty)
                    {
                        _thrInterruptPending = false; // datasheet table 4: reading IIR clears the THRE interrupt
                    }

                    value = (byte)(id | (FifoEnabled ? IirFifosEnabled : 0));
                    break;
                case 3:
                    value = _lcr;
                    break;
                case 4:
                    value = _mcr;
                    break;
                case 5:
                    value = (byte)((_fifoCount > 0 ? LsrDataReady : 0) | _lsrErrors | LsrThrEmpty | LsrTransmitterEmpty);
                    _lsrErrors = 0; // reading LSR clears the error bits and the line status interrupt
                    break;
                case 6:
                    value = Loopback ? LoopbackModemStatus() : MsrFixedInputs;
                    break;
                case 7:
                    value = _scr;
                    break;
            }

            UpdateInterrupt();
        }

        if (roomForInput)
        {
            ReadyForInput?.Invoke();
        }

        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (!IsValidAccess(offset, size))
        {
            return false;
        }

        byte b = (byte)value;

        // The transmit lock keeps bytes in THR-write order without holding the device lock while the host
        // consumes them, so input keeps flowing while a slow console writes.
        lock (_transmitLock)
        {
            bool send;
            lock (_lock)
            {
                send = WriteRegister(offset, b);
                UpdateInterrupt();
            }

            if (send)
            {
                _transmit(b);
            }
        }

        return true;
    }

    /// <summary>
    /// QEMU's serial_mm: 1-, 2-, 4- or 8-byte naturally aligned accesses within the 8 registers; a wide access
    /// reaches the one register at its offset.
    /// </summary>
    private static bool IsValidAccess(ulong offset, int size) =>
        size is 1 or 2 or 4 or 8 && (offset & (ulong)(size - 1)) == 0 && offset + (ulong)size <= RegisterSpan;

    /// <summary>Returns true when <paramref name="b"/> must go out to the host.</summary>
    private bool WriteRegister(ulong offset, byte b)
    {
        bool divisorLatch = (_lcr & LcrDivisorLatch) != 0;
        switch (offset)
        {
            case 0 when divisorLatch:
                _divisor = (ushort)((_divisor & 0xFF00) | b);
                return false;
            case 0:
                // THR. Transmission is instant, so THR is empty again at once and the THRE interrupt re-arms.
                _thrInterruptPending = true;
                if (Loopback)
                {
                    LoopbackReceive(b);
                    return false;
                }

                return true;
            case 1 when divisorLatch:
                _divisor = (ushort)((_divisor & 0x00FF) | (b << 8));
                return false;
            case 1:
                WriteInterruptEnable(b);
                return false;
            case 2:
                WriteFifoControl(b);
                return false;
            case 3:
                _lcr = b;
                return false;
            case 4:
                _mcr = (byte)(b & McrMask);
                FillReceiveFifo();
                return false;
            case 7:
                _scr = b;
                return false;
            default:
                return false; // LSR and MSR ignore writes
        }
    }

    /// <summary>
    /// Like QEMU (and as Windows relies on): setting ETBEI while THR is empty raises the THRE interrupt even if
    /// an IIR read had cleared it; clearing ETBEI forgets it.
    /// </summary>
    private void WriteInterruptEnable(byte b)
    {
        byte changed = (byte)((_ier ^ b) & IerMask);
        _ier = (byte)(b & IerMask);
        if ((changed & IerTransmitEmpty) != 0)
        {
            _thrInterruptPending = (_ier & IerTransmitEmpty) != 0;
        }
    }

    /// <summary>
    /// FCR: changing the enable bit resets both FIFOs (as QEMU does). A receiver reset drops the guest's own
    /// loopback bytes but keeps host input: Linux resets the FIFOs whenever it opens the port, and what the user
    /// typed must still arrive (QEMU keeps it in the chardev until the FIFO has room, to the same effect).
    /// </summary>
    private void WriteFifoControl(byte b)
    {
        if (((b ^ _fcr) & FcrEnable) != 0)
        {
            b |= FcrReceiverReset | FcrTransmitterReset;
        }

        if ((b & FcrReceiverReset) != 0)
        {
            DropLoopbackBytes();
        }

        if ((b & FcrTransmitterReset) != 0)
        {
            _thrInterruptPending = true;
        }

        _fcr = (byte)(b & FcrStoredBits);
        FillReceiveFifo();
    }

    private byte ReadReceiveBuffer(out bool roomForInput)
    {
        roomForInput = false;
        if (_fifoCount == 0)
        {
            return FifoEnabled ? (byte)0 : _lastReceived; // QEMU: an empty FIFO reads 0, a 16450 RBR its last byte
        }

        ushort entry = _fifo[_fifoHead];
        _fifoHead = (_fifoHead + 1) % FifoSize;
        _fifoCount--;
        if ((entry & FromHost) != 0)
        {
            _fifoHostBytes--;
            if (_feederWaiting)
            {
                _feederWaiting = false;
                roomForInput = true;
            }
        }

        _lastReceived = (byte)entry;
        FillReceiveFifo();
        return _lastReceived;
    }

    /// <summary>Moves host input into the receive FIFO; in loopback the serial input is disconnected (datasheet, MCR bit 4).</summary>
    private void FillReceiveFifo()
    {
        if (Loopback)
        {
            return;
        }

        while (_fifoCount < FifoCapacity && _backlog.Count > 0)
        {
            PushFifo((ushort)(_backlog.Dequeue() | FromHost));
            _fifoHostBytes++;
        }
    }

    /// <summary>Loopback: the transmitter feeds the receiver; a full receiver overruns and loses the byte.</summary>
    private void LoopbackReceive(byte b)
    {
        if (_fifoCount >= FifoCapacity)
        {
            _lsrErrors |= LsrOverrun;
            return;
        }

        PushFifo(b);
    }

    private void PushFifo(ushort entry)
    {
        _fifo[(_fifoHead + _fifoCount) % FifoSize] = entry;
        _fifoCount++;
    }

    private void DropLoopbackBytes()
    {
        int kept = 0;
        for (int i = 0; i < _fifoCount; i++)
        {
            ushort entry = _fifo[(_fifoHead + i) % FifoSize];
            if ((entry & FromHost) != 0)
            {
                _fifo[(_fifoHead + kept) % FifoSize] = entry;
                kept++;
            }
        }

        _fifoCount = kept;
    }

    /// <summary>Loopback (datasheet, MCR bit 4): DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.</summary>
    private byte LoopbackModemStatus() =>
        (byte)(((_mcr & 0x0C) << 4) | ((_mcr & 0x02) << 3) | ((_mcr & 0x01) << 5));

    /// <summary>
    /// Datasheet table 4, highest priority first: receiver line status, received data (or character timeout when
    /// the FIFO holds fewer bytes than its trigger level: no more are coming, so the timeout has already passed),
    /// THR empty. Modem status never interrupts: the modem inputs are fixed, as in QEMU.
    /// </summary>
    private byte InterruptIdentification()
    {
        if ((_ier & IerLineStatus) != 0 && _lsrErrors != 0)
        {
            return IirLineStatus;
        }

        if ((_ier & IerReceivedData) != 0 && _fifoCount > 0)
        {
            return FifoEnabled && _fifoCount < TriggerLevel ? IirCharacterTimeout : IirReceivedData;
        }

        if ((_ier & IerTransmitEmpty) != 0 && _thrInterruptPending)
        {
            return IirTransmitEmpty;
        }

        return IirNoInterrupt;
    }

    private void UpdateInterrupt()
    {
        bool asserted = InterruptIdentification() != IirNoInterrupt;
        if (asserted != _irqAsserted)
        {
            _irqAsserted = asserted;
            _irq.Set(asserted);
        }
    }

    public void SaveState(StateWriter writer)
    {
        lock (_lock)
        {
            writer.BeginSection("uart16550", 1);
            writer.WriteInt32(_fifoCount);
            for (int i = 0; i < _fifoCount; i++)
            {
                writer.WriteUInt16(_fifo[(_fifoHead + i) % FifoSize]);
            }

            writer.WriteInt32(_fifoHostBytes);
            writer.WriteBytes([_ier, _lcr, _mcr, _fcr, _scr, _lsrErrors, _lastReceived]);
            writer.WriteUInt16(_divisor);
            writer.WriteBoolean(_thrInterruptPending);
            writer.WriteBoolean(_irqAsserted);
            writer.WriteBytes([.. _backlog]);
            writer.EndSection();
        }
    }

    public void LoadState(StateReader reader)
    {
        lock (_lock)
        {
            reader.BeginSection("uart16550", 1);
            int count = reader.ReadInt32();
            reader.Require(count >= 0 && count <= FifoSize, $"receive FIFO count {count} is outside 0..{FifoSize}");
            _fifoHead = 0;
            _fifoCount = count;
            for (int i = 0; i < count; i++)
            {
                _fifo[i] = reader.ReadUInt16();
            }

            _fifoHostBytes = reader.ReadInt32();
            reader.Require(_fifoHostBytes >= 0 && _fifoHostBytes <= count, "host byte count exceeds the FIFO");
            byte[] registers = reader.ReadBytes();
            reader.Require(registers.Length == 7, "register block has the wrong size");
            (_ier, _lcr, _mcr, _fcr, _scr, _lsrErrors, _lastReceived) =
                (registers[0], registers[1], registers[2], registers[3], registers[4], registers[5], registers[6]);
            _divisor = reader.ReadUInt16();
            _thrInterruptPending = reader.ReadBoolean();
            _irqAsserted = reader.ReadBoolean();
            _backlog.Clear();
            foreach (byte b in reader.ReadBytes())
            {
                _backlog.Enqueue(b);
            }

            reader.EndSection();
            _irq.Set(_irqAsserted);
        }
    }
}
