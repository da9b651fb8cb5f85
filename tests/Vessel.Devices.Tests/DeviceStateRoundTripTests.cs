using System.Text;
using Vessel.Devices.Tests.Virtio;
using Vessel.Devices.Virtio;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices.Tests;

/// <summary>Each device's state survives save → load into a fresh instance, and a damaged section is refused.</summary>
public sealed class DeviceStateRoundTripTests
{
    private static byte[] Save(IStatefulDevice device)
    {
        var writer = new StateWriter();
        device.SaveState(writer);
        return writer.ToArray();
    }

    private static void Load(IStatefulDevice device, byte[] state)
    {
        var reader = new StateReader(state);
        device.LoadState(reader);
        Assert.True(reader.AtEnd);
    }

    private static byte Reg(IMmioDevice device, ulong offset)
    {
        Assert.True(device.Read(offset, 1, out ulong value));
        return (byte)value;
    }

    [Fact]
    public void UartKeepsRegistersFifoAndInterrupt()
    {
        var irq = new RecordingLine();
        var uart = new Uart16550(irq, _ => { });
        uart.Write(3, 1, 0x80); // DLAB
        uart.Write(0, 1, 0x01); // divisor 1
        uart.Write(3, 1, 0x03); // 8N1
        uart.Write(2, 1, 0x01); // FIFO on
        uart.Write(1, 1, 0x01); // received-data interrupt
        uart.Write(7, 1, 0x5A); // scratch
        Assert.True(uart.TryEnqueueInput("hi!"u8));
        Assert.True(irq.Level);
        byte[] state = Save(uart);

        var irq2 = new RecordingLine();
        var copy = new Uart16550(irq2, _ => { });
        Load(copy, state);
        Assert.True(irq2.Level);
        Assert.Equal(Reg(uart, 7), Reg(copy, 7));
        Assert.Equal(Reg(uart, 3), Reg(copy, 3));
        Assert.Equal(Reg(uart, 2), Reg(copy, 2));
        Assert.Equal((byte)'h', Reg(copy, 0));
        Assert.Equal((byte)'i', Reg(copy, 0));
        Assert.Equal((byte)'!', Reg(copy, 0));
        Assert.Equal(0, Reg(copy, 5) & 1);
        Assert.False(irq2.Level);
    }

    [Fact]
    public void PlicKeepsPriorityEnablePendingAndClaims()
    {
        RecordingLine[] contexts = [new(), new()];
        var plic = new Plic(0x5F, contexts);
        plic.Write(4 * 10, 4, 3);          // source 10 priority 3
        plic.Write(4 * 7, 4, 1);           // source 7 priority 1
        plic.Write(0x2080, 4, 1u << 10 | 1u << 7); // context 1 enables both
        plic.GetSourceLine(10).Set(true);
        plic.GetSourceLine(7).Set(true);
        Assert.True(plic.Read(0x20_1004, 4, out ulong claimed));
        Assert.Equal(10UL, claimed);
        byte[] state = Save(plic);

        RecordingLine[] contexts2 = [new(), new()];
        var copy = new Plic(0x5F, contexts2);
        Load(copy, state);
        Assert.True(contexts2[1].Level);
        Assert.False(contexts2[0].Level);
        Assert.True(copy.Read(0x20_1004, 4, out ulong next));
        Assert.Equal(7UL, next); // 10 is still claimed; 7 is next
        Assert.True(copy.Read(4 * 10, 4, out ulong priority));
        Assert.Equal(3UL, priority);
    }

    [Fact]
    public void ClintKeepsTimeCompareAndSoftwareInterrupts()
    {
        var clock = new MachineClock(deterministic: true);
        RecordingLine[] soft = [new(), new()], timer = [new(), new()];
        var clint = new Clint(clock, soft, timer);
        clint.Write(4, 4, 1);                        // msip[1]
        clint.Write(Clint.MtimecmpOffset, 8, 12345); // mtimecmp[0]
        byte[] state = Save(clint);

        RecordingLine[] soft2 = [new(), new()], timer2 = [new(), new()];
        var copy = new Clint(clock, soft2, timer2);
        Load(copy, state);
        Assert.True(soft2[1].Level);
        Assert.False(soft2[0].Level);
        Assert.Equal(12345UL, copy.GetTimeCompare(0));
        Assert.Equal(ulong.MaxValue, copy.GetTimeCompare(1));
    }

    [Fact]
    public void AClintStateForAnotherHartCountIsRefused()
    {
        var clock = new MachineClock(deterministic: true);
        byte[] state = Save(new Clint(clock, [new RecordingLine()], [new RecordingLine()]));
        var copy = new Clint(clock, [new RecordingLine(), new RecordingLine()], [new RecordingLine(), new RecordingLine()]);
        var e = Assert.Throws<MachineStateException>(() => Load(copy, state));
        Assert.Contains("does not match", e.Message);
    }

    [Fact]
    public void TruncatedOrMislabelledSectionsAreRefused()
    {
        byte[] state = Save(new Uart16550(new RecordingLine(), _ => { }));
        var e = Assert.Throws<MachineStateException>(() => Load(new Uart16550(new RecordingLine(), _ => { }), state[..^3]));
        Assert.Contains("uart16550", e.Message);
        var plic = new Plic(0x5F, [new RecordingLine()]);
        e = Assert.Throws<MachineStateException>(() => Load(plic, state));
        Assert.Contains("expected section 'plic'", e.Message);
    }

    [Fact]
    public void VirtioTransportAndConsoleResumeWhereTheyWere()
    {
        var output = new List<byte>();
        using var driver = new VirtioTestDriver(m => new VirtioConsole(m, d => output.AddRange(d.ToArray())), 2);
        driver.Initialize();
        ulong a = VirtioTestDriver.Buffer(1, 0);
        Encoding.ASCII.GetBytes("out").CopyTo(driver.Memory.GetSpan(a, 3));
        driver.Post(1, [(a, 3, false)]);
        Assert.True(((VirtioConsole)driver.Device).TryEnqueueInput("abc"u8)); // no receive buffer yet: stays queued
        byte[] state = Save(driver.Transport);

        using var copy = new VirtioTestDriver(m => new VirtioConsole(m, _ => { }), 2);
        driver.Memory.GetSpan(VirtioTestDriver.Ram, 4 << 20).CopyTo(copy.Memory.GetSpan(VirtioTestDriver.Ram, 4 << 20));
        Load(copy.Transport, state);
        Assert.Equal(driver.Reg(0x070), copy.Reg(0x070));
        Assert.True(((VirtioConsole)copy.Device).DriverReady);
        ulong b = VirtioTestDriver.Buffer(0, 0);
        copy.Post(0, [(b, 64, true)]);
        Assert.Equal(3u, Assert.Single(copy.TakeUsed(0)).Length);
        Assert.Equal("abc", Encoding.ASCII.GetString(copy.Memory.GetSpan(b, 3)));
    }
}
