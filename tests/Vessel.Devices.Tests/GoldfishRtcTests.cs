namespace Vessel.Devices.Tests;

public sealed class GoldfishRtcTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void ReadingTimeLowLatchesTimeHigh()
    {
        var time = new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        using var rtc = new GoldfishRtc(new RecordingLine(), time);
        rtc.Read(0x00, 4, out ulong low);
        time.Now = time.Now.AddYears(100); // changes the high half, but the latch holds
        rtc.Read(0x04, 4, out ulong high);
        Assert.Equal(1_800_000_000UL * 1_000_000_000UL, (high << 32) | low);
    }

    [Fact]
    public void GuestWritesSetTheTime()
    {
        var time = new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        using var rtc = new GoldfishRtc(new RecordingLine(), time);
        ulong target = 1_000_000_000UL * 1_000_000_000UL;
        rtc.Write(0x04, 4, target >> 32);
        rtc.Write(0x00, 4, (uint)target);
        time.Now = time.Now.AddSeconds(5);
        rtc.Read(0x00, 4, out ulong low);
        rtc.Read(0x04, 4, out ulong high);
        Assert.Equal(target + 5_000_000_000UL, (high << 32) | low);
    }

    [Fact]
    public async Task AnAlarmInThePastFiresItsInterrupt()
    {
        var irq = new RecordingLine();
        using var rtc = new GoldfishRtc(irq);
        rtc.Write(0x10, 4, 1); // IRQ enabled
        rtc.Write(0x0C, 4, 0);
        rtc.Write(0x08, 4, 1); // long past
        for (int i = 0; i < 100 && !irq.Level; i++)
        {
            await Task.Delay(20);
        }

        Assert.True(irq.Level);
        rtc.Write(0x1C, 4, 1); // clear interrupt
        Assert.False(irq.Level);
    }
}
