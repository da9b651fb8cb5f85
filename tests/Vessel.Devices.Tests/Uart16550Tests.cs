namespace Vessel.Devices.Tests;

public sealed class Uart16550Tests
{
    private readonly RecordingLine _irq = new();
    private readonly List<byte> _sent = [];
    private readonly Uart16550 _uart;

    public Uart16550Tests()
    {
        _uart = new Uart16550(_irq, _sent.Add);
    }

    private byte Reg(ulong offset)
    {
        _uart.Read(offset, 1, out ulong v);
        return (byte)v;
    }

    [Fact]
    public void TransmitsWhatTheGuestWritesAndStaysEmpty()
    {
        _uart.Write(0, 1, 'h');
        _uart.Write(0, 1, 'i');
        Assert.Equal("hi"u8.ToArray(), _sent);
        Assert.Equal(0x60, Reg(5) & 0x60); // THRE and TEMT
    }

    [Fact]
    public void ReceivedBytesArriveInOrderWithDataReady()
    {
        Assert.True(_uart.TryEnqueueInput("ab"u8));
        Assert.Equal(1, Reg(5) & 1);
        Assert.Equal((byte)'a', Reg(0));
        Assert.Equal((byte)'b', Reg(0));
        Assert.Equal(0, Reg(5) & 1);
    }

    [Fact]
    public void ReceiveInterruptFollowsIerAndData()
    {
        Assert.False(_uart.ReceiverReady);
        _uart.TryEnqueueInput("x"u8);
        Assert.False(_irq.Level);
        _uart.Write(1, 1, 0x01); // ERBFI
        Assert.True(_uart.ReceiverReady);
        Assert.True(_irq.Level);
        Assert.Equal(0x04, Reg(2) & 0x0F); // IIR: received data available
        Reg(0);
        Assert.False(_irq.Level);
        Assert.Equal(0x01, Reg(2) & 0x0F); // no interrupt
    }

    [Fact]
    public void ThrEmptyInterruptIsAcknowledgedByReadingIir()
    {
        _uart.Write(1, 1, 0x02); // ETBEI while THR is empty
        Assert.True(_irq.Level);
        Assert.Equal(0x02, Reg(2) & 0x0F);
        Assert.False(_irq.Level); // the IIR read cleared it
        _uart.Write(0, 1, 'z'); // transmitting empties THR again
        Assert.True(_irq.Level);
    }

    [Fact]
    public void DivisorLatchSharesOffsetsZeroAndOne()
    {
        _uart.Write(3, 1, 0x83); // DLAB on, 8N1
        _uart.Write(0, 1, 0x34);
        _uart.Write(1, 1, 0x12);
        Assert.Equal(0x34, Reg(0));
        Assert.Equal(0x12, Reg(1));
        _uart.Write(3, 1, 0x03);
        Assert.Empty(_sent); // the divisor write did not transmit
        Assert.Equal(0, Reg(1)); // IER untouched
    }

    [Fact]
    public void LoopbackRoutesOutputToInput()
    {
        _uart.Write(4, 1, 0x10 | 0x01); // loopback, DTR
        _uart.Write(0, 1, 'q');
        Assert.Empty(_sent);
        Assert.Equal((byte)'q', Reg(0));
        Assert.Equal(0x20, Reg(6) & 0x20); // DTR appears as DSR
    }

    [Fact]
    public void FifoControlShowsInIirAndScratchHoldsAByte()
    {
        _uart.Write(2, 1, 0x07);
        Assert.Equal(0xC0, Reg(2) & 0xC0);
        _uart.Write(7, 1, 0x5A);
        Assert.Equal(0x5A, Reg(7));
    }

    [Fact]
    public void BacklogRefusesInputBeyondItsLimitWithoutLosingAnything()
    {
        Assert.True(_uart.TryEnqueueInput(new byte[Uart16550.BacklogLimit]));
        Assert.False(_uart.TryEnqueueInput("1"u8));
        Assert.Equal(Uart16550.BacklogLimit, _uart.InputBacklog);
    }
}
