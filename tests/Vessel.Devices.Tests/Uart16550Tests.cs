namespace Vessel.Devices.Tests;

public sealed class Uart16550Tests
{
    private const ulong Rbr = 0;
    private const ulong Thr = 0;
    private const ulong Dll = 0;
    private const ulong Ier = 1;
    private const ulong Dlm = 1;
    private const ulong Iir = 2;
    private const ulong Fcr = 2;
    private const ulong Lcr = 3;
    private const ulong Mcr = 4;
    private const ulong Lsr = 5;
    private const ulong Msr = 6;
    private const ulong Scr = 7;

    private readonly RecordingLine _irq = new();
    private readonly List<byte> _sent = [];
    private readonly Uart16550 _uart;

    public Uart16550Tests()
    {
        _uart = new Uart16550(_irq, _sent.Add);
    }

    private byte Reg(ulong offset)
    {
        Assert.True(_uart.Read(offset, 1, out ulong value));
        return (byte)value;
    }

    private void Set(ulong offset, byte value) => Assert.True(_uart.Write(offset, 1, value));

    private byte[] Drain()
    {
        var bytes = new List<byte>();
        while ((Reg(Lsr) & 0x01) != 0)
        {
            bytes.Add(Reg(Rbr));
        }

        return [.. bytes];
    }

    [Fact]
    public void ResetStateMatchesQemu()
    {
        Assert.Equal(0x60, Reg(Lsr)); // THRE | TEMT
        Assert.Equal(0x01, Reg(Iir)); // no interrupt, FIFOs off
        Assert.Equal(0x00, Reg(Ier));
        Assert.Equal(0x00, Reg(Lcr));
        Assert.Equal(0x08, Reg(Mcr)); // OUT2
        Assert.Equal(0xB0, Reg(Msr)); // DCD, DSR, CTS
        Assert.Equal(0x00, Reg(Scr));
        Assert.False(_irq.Level);
        Set(Lcr, 0x80);
        Assert.Equal(0x0C, Reg(Dll)); // 9600 baud
        Assert.Equal(0x00, Reg(Dlm));
    }

    [Fact]
    public void EveryThrWriteIsTransmittedAtOnce()
    {
        Set(Thr, (byte)'h');
        Set(Thr, (byte)'i');
        Assert.Equal("hi"u8.ToArray(), _sent);
        Assert.Equal(0x60, Reg(Lsr) & 0x60); // THR and the shift register are empty again
    }

    [Fact]
    public void DivisorLatchSharesOffsetsZeroAndOne()
    {
        Set(Ier, 0x05);
        Set(Lcr, 0x83); // DLAB on, 8N1
        Set(Dll, 0x34);
        Set(Dlm, 0x12);
        Assert.Equal(0x34, Reg(Dll));
        Assert.Equal(0x12, Reg(Dlm));
        Assert.Equal(0x83, Reg(Lcr));
        Set(Lcr, 0x03);
        Assert.Empty(_sent); // the divisor write did not transmit
        Assert.Equal(0x05, Reg(Ier)); // IER untouched
        _uart.TryEnqueueInput("z"u8);
        Set(Lcr, 0x83);
        Assert.Equal(0x34, Reg(Rbr)); // DLAB hides RBR
        Set(Lcr, 0x03);
        Assert.Equal((byte)'z', Reg(Rbr));
    }

    [Fact]
    public void IerKeepsItsFourDefinedBits()
    {
        Set(Ier, 0xFF);
        Assert.Equal(0x0F, Reg(Ier));
    }

    [Fact]
    public void LineControlModemControlAndScratchHoldWhatIsWritten()
    {
        Set(Lcr, 0x1B);
        Assert.Equal(0x1B, Reg(Lcr));
        Set(Mcr, 0xFF);
        Assert.Equal(0x1F, Reg(Mcr)); // five defined bits
        Set(Scr, 0x5A);
        Assert.Equal(0x5A, Reg(Scr));
    }

    [Fact]
    public void LineAndModemStatusIgnoreWrites()
    {
        Set(Lsr, 0x00);
        Set(Msr, 0x00);
        Assert.Equal(0x60, Reg(Lsr));
        Assert.Equal(0xB0, Reg(Msr));
    }

    [Fact]
    public void WithTheFifoOnReceivedBytesArriveInOrder()
    {
        Set(Fcr, 0x01);
        byte[] input = [.. Enumerable.Range(0, 40).Select(i => (byte)i)];
        Assert.True(_uart.TryEnqueueInput(input));
        Assert.Equal(40, _uart.InputBacklog);
        Assert.Equal(0x01, Reg(Lsr) & 0x01);
        Assert.Equal(input, Drain());
        Assert.Equal(0, _uart.InputBacklog);
        Assert.Equal(0x00, Reg(Lsr) & 0x01);
        Assert.Equal(0x00, Reg(Rbr)); // an empty FIFO reads zero
    }

    [Fact]
    public void WithTheFifoOffTheReceiverHoldsOneByteAtATimeAndLosesNone()
    {
        Assert.True(_uart.TryEnqueueInput("abc"u8));
        Assert.Equal("abc"u8.ToArray(), Drain());
        Assert.Equal((byte)'c', Reg(Rbr)); // a 16450 RBR keeps its last byte
    }

    [Fact]
    public void FifoControlShowsInIir()
    {
        Set(Fcr, 0xC7);
        Assert.Equal(0xC1, Reg(Iir));
        Set(Fcr, 0x00);
        Assert.Equal(0x01, Reg(Iir));
    }

    [Fact]
    public void ReceiveInterruptFollowsErbfiAndData()
    {
        Assert.False(_uart.ReceiverReady);
        _uart.TryEnqueueInput("xy"u8);
        Assert.False(_irq.Level);
        Set(Ier, 0x01); // ERBFI
        Assert.True(_uart.ReceiverReady);
        Assert.True(_irq.Level);
        Assert.Equal(0x04, Reg(Iir)); // received data available
        Reg(Rbr);
        Assert.True(_irq.Level); // 'y' moved up
        Reg(Rbr);
        Assert.False(_irq.Level);
        Assert.Equal(0x01, Reg(Iir));
        _uart.TryEnqueueInput("z"u8);
        Assert.True(_irq.Level);
        Set(Ier, 0x00);
        Assert.False(_irq.Level);
    }

    [Theory]
    [InlineData(0x01, 1)]
    [InlineData(0x41, 4)]
    [InlineData(0x81, 8)]
    [InlineData(0xC1, 14)]
    public void BelowTheTriggerLevelTheFifoReportsACharacterTimeout(byte fcr, int trigger)
    {
        Set(Fcr, fcr);
        Set(Ier, 0x01);
        for (int count = 1; count <= 16; count++)
        {
            Assert.True(_uart.TryEnqueueInput([(byte)count]));
            Assert.True(_irq.Level);
            Assert.Equal(count < trigger ? 0xCC : 0xC4, Reg(Iir));
        }
    }

    [Fact]
    public void ThrEmptyInterruptFollowsThe16550Protocol()
    {
        Set(Ier, 0x02); // ETBEI while THR is empty: THRE interrupt
        Assert.True(_irq.Level);
        Assert.Equal(0x02, Reg(Iir));
        Assert.False(_irq.Level); // the IIR read acknowledged it
        Assert.Equal(0x01, Reg(Iir));

        Set(Thr, (byte)'z'); // transmission is instant: THR empties and the interrupt re-arms
        Assert.True(_irq.Level);
        Assert.Equal(0x02, Reg(Iir));
        Assert.False(_irq.Level);

        Set(Ier, 0x00);
        Set(Ier, 0x02); // toggling ETBEI raises it again (QEMU; Windows and Linux's THRE test rely on it)
        Assert.True(_irq.Level);
        Set(Ier, 0x02); // unchanged ETBEI: nothing new
        Assert.Equal(0x02, Reg(Iir));
        Set(Ier, 0x02);
        Assert.False(_irq.Level);
        Set(Ier, 0x00);
        Assert.False(_irq.Level);
    }

    [Fact]
    public void TransmitterFifoResetRaisesThre()
    {
        Set(Ier, 0x02);
        Reg(Iir);
        Assert.False(_irq.Level);
        Set(Fcr, 0x04);
        Assert.True(_irq.Level);
    }

    [Fact]
    public void ReceivedDataOutranksThrEmpty()
    {
        Set(Ier, 0x03);
        _uart.TryEnqueueInput("k"u8);
        Assert.Equal(0x04, Reg(Iir));
        Assert.Equal(0x04, Reg(Iir)); // reading IIR does not clear received data
        Reg(Rbr);
        Assert.Equal(0x02, Reg(Iir));
        Assert.Equal(0x01, Reg(Iir));
    }

    [Fact]
    public void LoopbackRoutesOutputToInputWithoutTransmitting()
    {
        Set(Mcr, 0x10);
        Set(Thr, (byte)'q');
        Assert.Empty(_sent);
        Assert.Equal(0x01, Reg(Lsr) & 0x01);
        Assert.Equal((byte)'q', Reg(Rbr));
        Set(Mcr, 0x00);
        Set(Thr, (byte)'r');
        Assert.Equal("r"u8.ToArray(), _sent);
    }

    [Theory]
    [InlineData(0x11, 0x20)] // DTR -> DSR
    [InlineData(0x12, 0x10)] // RTS -> CTS
    [InlineData(0x14, 0x40)] // OUT1 -> RI
    [InlineData(0x18, 0x80)] // OUT2 -> DCD
    [InlineData(0x1B, 0xB0)] // Linux 8250 autoconfig's loopback test: LOOP | OUT2 | RTS | DTR
    public void LoopbackConnectsModemOutputsToInputs(byte mcr, byte msr)
    {
        Set(Mcr, mcr);
        Assert.Equal(msr, Reg(Msr));
    }

    [Fact]
    public void LoopbackDisconnectsHostInputUntilItEnds()
    {
        Set(Mcr, 0x10);
        _uart.TryEnqueueInput("host"u8);
        Set(Thr, (byte)'L');
        Assert.Equal("L"u8.ToArray(), Drain());
        Set(Mcr, 0x00);
        Assert.Equal("host"u8.ToArray(), Drain());
    }

    [Fact]
    public void ALoopbackOverrunRaisesTheLineStatusInterrupt()
    {
        Set(Ier, 0x04); // ELSI only
        Set(Mcr, 0x10);
        Set(Thr, (byte)'1');
        Set(Thr, (byte)'2'); // the 1-byte receiver is full: overrun, '2' is lost
        Assert.True(_irq.Level);
        Assert.Equal(0x06, Reg(Iir));
        Assert.Equal(0x63, Reg(Lsr)); // DR | OE | THRE | TEMT
        Assert.False(_irq.Level); // reading LSR cleared the error
        Assert.Equal(0x61, Reg(Lsr));
        Assert.Equal("1"u8.ToArray(), Drain());
    }

    [Fact]
    public void TheFifoOverrunsInLoopbackAfterSixteenBytes()
    {
        Set(Fcr, 0x01);
        Set(Mcr, 0x10);
        for (int i = 0; i < 20; i++)
        {
            Set(Thr, (byte)i);
        }

        Assert.Equal(0x02, Reg(Lsr) & 0x02);
        Assert.Equal(16, Drain().Length); // how Linux's size_fifo() measures the FIFO
    }

    [Fact]
    public void ReceiverResetDropsLoopbackBytesButKeepsHostInput()
    {
        _uart.TryEnqueueInput("keep"u8);
        Set(Fcr, 0x07); // enabling the FIFO resets both FIFOs
        Assert.Equal("keep"u8.ToArray(), Drain());

        Set(Mcr, 0x10);
        Set(Thr, (byte)'x');
        Set(Fcr, 0x03);
        Assert.Equal(0x00, Reg(Lsr) & 0x01);
        Assert.Empty(Drain());
    }

    [Fact]
    public void BacklogIsAllOrNothingUpToItsLimit()
    {
        Assert.True(_uart.TryEnqueueInput(new byte[Uart16550.BacklogLimit - 1]));
        Assert.False(_uart.TryEnqueueInput("12"u8));
        Assert.Equal(Uart16550.BacklogLimit - 1, _uart.InputBacklog);
        Assert.True(_uart.TryEnqueueInput("1"u8));
        Assert.Equal(Uart16550.BacklogLimit, _uart.InputBacklog);
        Assert.Throws<ArgumentException>(() => _uart.TryEnqueueInput(new byte[Uart16550.BacklogLimit + 1]));
    }

    [Fact]
    public void ReadyForInputTellsARefusedFeederWhenToRetry()
    {
        int ready = 0;
        _uart.ReadyForInput += () => ready++;
        Assert.True(_uart.TryEnqueueInput(new byte[Uart16550.BacklogLimit]));
        Reg(Rbr);
        Assert.Equal(0, ready); // nobody was waiting

        Assert.False(_uart.TryEnqueueInput("ab"u8));
        Reg(Rbr);
        Assert.Equal(1, ready);
        Assert.True(_uart.TryEnqueueInput("ab"u8));
        Reg(Rbr);
        Assert.Equal(1, ready); // raised once per refusal
    }

    [Fact]
    public async Task APasteLargerThanTheBacklogArrivesWhole()
    {
        byte[] paste = [.. Enumerable.Range(0, 3 * Uart16550.BacklogLimit).Select(i => (byte)(i * 7))];
        using var room = new SemaphoreSlim(0);
        _uart.ReadyForInput += () => room.Release();
        Set(Fcr, 0x01);
        var feeder = Task.Run(async () =>
        {
            for (int offset = 0; offset < paste.Length;)
            {
                int chunk = Math.Min(4096, paste.Length - offset);
                if (_uart.TryEnqueueInput(paste.AsSpan(offset, chunk)))
                {
                    offset += chunk;
                }
                else
                {
                    await room.WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
        });

        var received = new List<byte>(paste.Length);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (received.Count < paste.Length && DateTime.UtcNow < deadline)
        {
            if ((Reg(Lsr) & 0x01) != 0)
            {
                received.Add(Reg(Rbr));
            }
        }

        await feeder;
        Assert.Equal(paste, received);
    }

    [Fact]
    public void AccessesStayWithinTheEightRegistersAndAreAligned()
    {
        Assert.False(_uart.Read(8, 1, out _)); // QEMU maps 8 bytes of the 0x100 window
        Assert.False(_uart.Write(0xFF, 1, 0));
        Assert.False(_uart.Read(1, 2, out _));
        Assert.False(_uart.Write(6, 4, 0));
        Assert.False(_uart.Read(0, 3, out _));
        Set(Mcr, 0x03);
        Assert.True(_uart.Read(Mcr, 4, out ulong mcr)); // a wide access reaches the one register at its offset
        Assert.Equal(0x03UL, mcr);
        Assert.True(_uart.Write(Thr, 8, 0x4142_4344_4546_4748));
        Assert.Equal("H"u8.ToArray(), _sent);
    }

    [Fact]
    public void TheInterruptLineSeesOnlyEdges()
    {
        Set(Ier, 0x01);
        _uart.TryEnqueueInput("abc"u8);
        _uart.TryEnqueueInput("def"u8);
        Drain();
        Assert.Equal(2, _irq.Changes);
    }
}
