namespace Vessel.Devices.Tests;

public sealed class GoldfishRtcTests : IDisposable
{
    private const ulong TimeLow = 0x00;
    private const ulong TimeHigh = 0x04;
    private const ulong AlarmLow = 0x08;
    private const ulong AlarmHigh = 0x0C;
    private const ulong IrqEnabled = 0x10;
    private const ulong ClearAlarm = 0x14;
    private const ulong AlarmStatus = 0x18;
    private const ulong ClearInterrupt = 0x1C;
    private const ulong NanosecondsPerSecond = 1_000_000_000;
    private const ulong Start = 1_800_000_000 * NanosecondsPerSecond;

    private readonly ManualTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
    private readonly RecordingLine _irq = new();
    private readonly GoldfishRtc _rtc;

    public GoldfishRtcTests()
    {
        _rtc = new GoldfishRtc(_irq, _time);
    }

    public void Dispose() => _rtc.Dispose();

    private ulong Read(ulong offset)
    {
        Assert.True(_rtc.Read(offset, 4, out ulong value));
        return value;
    }

    private void Write(ulong offset, ulong value) => Assert.True(_rtc.Write(offset, 4, value));

    private ulong ReadTime()
    {
        ulong low = Read(TimeLow);
        return (Read(TimeHigh) << 32) | low;
    }

    private void SetAlarm(ulong nanoseconds)
    {
        Write(AlarmHigh, nanoseconds >> 32);
        Write(AlarmLow, (uint)nanoseconds);
    }

    [Fact]
    public void TimeIsNanosecondsSinceTheUnixEpochFromTheHostClock()
    {
        Assert.Equal(Start, ReadTime());
        _time.Advance(TimeSpan.FromMilliseconds(1.5));
        Assert.Equal(Start + 1_500_000, ReadTime());
    }

    [Fact]
    public void ReadingTimeLowLatchesTimeHigh()
    {
        ulong low = Read(TimeLow);
        _time.Advance(TimeSpan.FromDays(365 * 100)); // changes the high half, but the latch holds
        Assert.Equal(Start, (Read(TimeHigh) << 32) | low);
        Assert.Equal(Start >> 32, Read(TimeHigh));
    }

    [Fact]
    public void WritingHighThenLowSetsTheClockWhichKeepsRunning()
    {
        ulong target = 1_000_000_000 * NanosecondsPerSecond;
        Write(TimeHigh, target >> 32); // Linux's order
        Write(TimeLow, (uint)target);
        Assert.Equal(target, ReadTime());
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(target + (5 * NanosecondsPerSecond), ReadTime());
    }

    [Fact]
    public void EachHalfWriteReplacesThatHalfOfTheCurrentTime()
    {
        Write(TimeLow, 0x1234);
        Assert.Equal((Start & 0xFFFF_FFFF_0000_0000) | 0x1234, ReadTime());
        Write(TimeHigh, 0x42);
        Assert.Equal(0x42_0000_1234UL, ReadTime());
    }

    [Fact]
    public void AlarmRegistersReadBack()
    {
        Write(AlarmHigh, 0x1_2345);
        Assert.Equal(0x1_2345UL, Read(AlarmHigh));
        Write(AlarmLow, 0x6789_ABCD); // the alarm is in the past: it fires at once and stops
        Assert.Equal(0x6789_ABCDUL, Read(AlarmLow));
        Assert.Equal(0UL, Read(AlarmStatus));
        Write(IrqEnabled, 0xFF);
        Assert.Equal(1UL, Read(IrqEnabled));
        Write(IrqEnabled, 0);
        Assert.Equal(0UL, Read(IrqEnabled));
    }

    [Fact]
    public void AFutureAlarmRunsUntilDueThenInterrupts()
    {
        Write(IrqEnabled, 1);
        SetAlarm(Start + (2 * NanosecondsPerSecond));
        Assert.Equal(1UL, Read(AlarmStatus));
        _time.Advance(TimeSpan.FromSeconds(1.999));
        Assert.False(_irq.Level);
        Assert.Equal(1UL, Read(AlarmStatus));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(_irq.Level);
        Assert.Equal(0UL, Read(AlarmStatus));

        Write(ClearInterrupt, 1);
        Assert.False(_irq.Level);
    }

    [Fact]
    public void AnAlarmInThePastInterruptsAtOnce()
    {
        Write(IrqEnabled, 1);
        SetAlarm(1);
        Assert.True(_irq.Level);
        Assert.Equal(0UL, Read(AlarmStatus));
        Assert.Equal(0, _time.ActiveTimers);
    }

    [Fact]
    public void TheInterruptWaitsForIrqEnabled()
    {
        SetAlarm(Start);
        Assert.False(_irq.Level);
        Write(IrqEnabled, 1); // the alarm's interrupt is still pending
        Assert.True(_irq.Level);
        Write(IrqEnabled, 0);
        Assert.False(_irq.Level);
        Write(ClearInterrupt, 1);
        Write(IrqEnabled, 1);
        Assert.False(_irq.Level);
    }

    [Fact]
    public void ClearAlarmStopsARunningAlarm()
    {
        Write(IrqEnabled, 1);
        SetAlarm(Start + NanosecondsPerSecond);
        Write(ClearAlarm, 1);
        Assert.Equal(0UL, Read(AlarmStatus));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(_irq.Level);
    }

    [Fact]
    public void RearmingReplacesTheEarlierAlarm()
    {
        Write(IrqEnabled, 1);
        SetAlarm(Start + NanosecondsPerSecond);
        SetAlarm(Start + (3 * NanosecondsPerSecond));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(_irq.Level);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_irq.Level);
    }

    [Fact]
    public void AnAlarmAYearAheadWaitsInShortHostTimerSteps()
    {
        // System.Threading.Timer takes at most ~49.7 days; the RTC re-arms in steps instead.
        Write(IrqEnabled, 1);
        SetAlarm(Start + (366UL * 24 * 3600 * NanosecondsPerSecond));
        _time.Advance(TimeSpan.FromDays(365));
        Assert.False(_irq.Level);
        Assert.Equal(1UL, Read(AlarmStatus));
        _time.Advance(TimeSpan.FromDays(1));
        Assert.True(_irq.Level);
    }

    [Fact]
    public void MovingTheClockBackDelaysARunningAlarm()
    {
        Write(IrqEnabled, 1);
        SetAlarm(Start + NanosecondsPerSecond);
        ulong earlier = Start - (10 * NanosecondsPerSecond);
        Write(TimeHigh, earlier >> 32);
        Write(TimeLow, (uint)earlier);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(_irq.Level);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(_irq.Level);
    }

    [Fact]
    public void RegistersAreAligned32BitWords()
    {
        Assert.False(_rtc.Read(TimeLow, 8, out _));
        Assert.False(_rtc.Read(TimeLow, 2, out _));
        Assert.False(_rtc.Write(AlarmLow, 1, 0));
        Assert.False(_rtc.Read(0x02, 4, out _));
        Assert.False(_rtc.Read(GoldfishRtc.Size, 4, out _));
        Assert.Equal(0UL, Read(0x20)); // unimplemented offsets read zero
        Assert.Equal(0UL, Read(ClearAlarm));
        Write(0x20, 1);
    }

    [Fact]
    public async Task TheSystemClockAndTimerFireARealAlarm()
    {
        var irq = new RecordingLine();
        using var rtc = new GoldfishRtc(irq);
        Assert.True(rtc.Write(IrqEnabled, 4, 1));
        Assert.True(rtc.Read(TimeLow, 4, out ulong low));
        Assert.True(rtc.Read(TimeHigh, 4, out ulong high));
        ulong alarm = ((high << 32) | low) + (50 * 1_000_000UL);
        Assert.True(rtc.Write(AlarmHigh, 4, alarm >> 32));
        Assert.True(rtc.Write(AlarmLow, 4, (uint)alarm));
        for (int i = 0; i < 250 && !irq.Level; i++)
        {
            await Task.Delay(20);
        }

        Assert.True(irq.Level);
        Assert.True(rtc.Read(AlarmStatus, 4, out ulong running));
        Assert.Equal(0UL, running);
    }

    [Fact]
    public void DisposingStopsTheAlarm()
    {
        Write(IrqEnabled, 1);
        SetAlarm(Start + NanosecondsPerSecond);
        _rtc.Dispose();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(_irq.Level);
        Assert.Equal(0, _time.ActiveTimers);
    }
}
