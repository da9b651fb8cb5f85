using Vessel.Machine.Abstractions;

namespace Vessel.Devices;

/// <summary>
/// An NS16550A UART as Linux's 8250 driver and OpenSBI's uart8250 use it (registers one byte apart): RBR/THR,
/// IER, IIR/FCR, LCR (with the divisor latch), MCR (incl. loopback), LSR, MSR, SCR. Transmission is instant;
/// received bytes wait in a bounded backlog that the guest drains through the receive FIFO.
/// </summary>
public sealed class Uart16550 : IMmioDevice
{
    public const int BacklogLimit = 64 * 1024;

    private const byte IerReceiveData = 0x01;
    private const byte IerTransmitEmpty = 0x02;
    private const byte IerLineStatus = 0x04;
    private const byte LcrDlab = 0x80;
    private const byte McrLoopback = 0x10;
    private const byte LsrDataReady = 0x01;
    private const byte LsrOverrun = 0x02;
    private const byte LsrThrEmpty = 0x20;
    private const byte LsrTransmitterEmpty = 0x40;
    private const byte IirNoInterrupt = 0x01;
    private const byte IirLineStatus = 0x06;
    private const byte IirReceiveData = 0x04;
    private const byte IirThrEmpty = 0x02;
    private const byte FcrEnable = 0x01;
    private const byte MsrDefault = 0xB0; // DCD, DSR, CTS asserted, as QEMU reports

    private readonly IInterruptLine _irq;
    private readonly Action<byte> _transmit;
    private readonly Queue<byte> _receive = new();
    private readonly object _lock = new();
    private byte _ier;
    private byte _lcr;
    private byte _mcr;
    private byte _scr;
    private byte _fcr;
    private byte _dll = 1;
    private byte _dlm;
    private bool _overrun;
    private bool _thrInterruptPending;
    private bool _irqAsserted;

    public Uart16550(IInterruptLine irq, Action<byte> transmit)
    {
        _irq = irq;
        _transmit = transmit;
    }

    /// <summary>True while the guest's driver has receive interrupts on: input sent now will be read.</summary>
    public bool ReceiverReady
    {
        get
        {
            lock (_lock)
            {
                return (_ier & IerReceiveData) != 0;
            }
        }
    }

    /// <summary>Bytes received from the host that the guest has not read yet.</summary>
    public int InputBacklog
    {
        get
        {
            lock (_lock)
            {
                return _receive.Count;
            }
        }
    }

    /// <summary>Queues host input for the guest; false (nothing queued) when the backlog would overflow.</summary>
    public bool TryEnqueueInput(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (_receive.Count + data.Length > BacklogLimit)
            {
                return false;
            }

            foreach (byte b in data)
            {
                _receive.Enqueue(b);
            }

            UpdateInterrupt();
            return true;
        }
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (offset >= 8)
        {
            return true;
        }

        lock (_lock)
        {
            bool dlab = (_lcr & LcrDlab) != 0;
            switch (offset)
            {
                case 0:
                    if (dlab)
                    {
                        value = _dll;
                    }
                    else if (_receive.Count > 0)
                    {
                        value = _receive.Dequeue();
                    }

                    break;
                case 1:
                    value = dlab ? _dlm : _ier;
                    break;
                case 2:
                    byte iir = InterruptIdentification();
                    if (iir == IirThrEmpty)
                    {
                        _thrInterruptPending = false; // reading IIR acknowledges THRE
                    }

                    value = iir | ((_fcr & FcrEnable) != 0 ? 0xC0u : 0u);
                    break;
                case 3:
                    value = _lcr;
                    break;
                case 4:
                    value = _mcr;
                    break;
                case 5:
                    value = (byte)((_receive.Count > 0 ? LsrDataReady : 0) | (_overrun ? LsrOverrun : 0) | LsrThrEmpty | LsrTransmitterEmpty);
                    _overrun = false;
                    break;
                case 6:
                    value = (_mcr & McrLoopback) != 0 ? LoopbackModemStatus() : MsrDefault;
                    break;
                case 7:
                    value = _scr;
                    break;
            }

            UpdateInterrupt();
        }

        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (offset >= 8)
        {
            return true;
        }

        byte b = (byte)value;
        int transmitted = -1;
        lock (_lock)
        {
            bool dlab = (_lcr & LcrDlab) != 0;
            switch (offset)
            {
                case 0:
                    if (dlab)
                    {
                        _dll = b;
                    }
                    else if ((_mcr & McrLoopback) != 0)
                    {
                        EnqueueLoopback(b);
                        _thrInterruptPending = true;
                    }
                    else
                    {
                        transmitted = b;
                        _thrInterruptPending = true; // the byte left at once: THR is empty again
                    }

                    break;
                case 1:
                    if (dlab)
                    {
                        _dlm = b;
                    }
                    else
                    {
                        bool enablingThre = (b & IerTransmitEmpty) != 0 && (_ier & IerTransmitEmpty) == 0;
                        _ier = (byte)(b & 0x0F);
                        if (enablingThre)
                        {
                            _thrInterruptPending = true; // THR is always empty here
                        }
                    }

                    break;
                case 2:
                    // FIFO resets (Linux issues one whenever it opens the port) keep host input: everything
                    // queued came from the user and must reach the guest, as with QEMU's chardev backlog.
                    _fcr = (byte)(b & 0xC9);
                    break;
                case 3:
                    _lcr = b;
                    break;
                case 4:
                    _mcr = (byte)(b & 0x1F);
                    break;
                case 7:
                    _scr = b;
                    break;
            }

            UpdateInterrupt();
        }

        if (transmitted >= 0)
        {
            _transmit((byte)transmitted);
        }

        return true;
    }

    private void EnqueueLoopback(byte b)
    {
        if (_receive.Count >= BacklogLimit)
        {
            _overrun = true;
            return;
        }

        _receive.Enqueue(b);
    }

    private byte LoopbackModemStatus()
    {
        // In loopback, DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD (16550 datasheet, MCR bit 4).
        int m = _mcr;
        return (byte)((((m >> 0) & 1) << 5) | (((m >> 1) & 1) << 4) | (((m >> 2) & 1) << 6) | (((m >> 3) & 1) << 7));
    }

    private byte InterruptIdentification()
    {
        if ((_ier & IerLineStatus) != 0 && _overrun)
        {
            return IirLineStatus;
        }

        if ((_ier & IerReceiveData) != 0 && _receive.Count > 0)
        {
            return IirReceiveData;
        }

        if ((_ier & IerTransmitEmpty) != 0 && _thrInterruptPending)
        {
            return IirThrEmpty;
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
}
