using Vessel.Machine.Abstractions;

namespace Vessel.Devices.Tests;

public sealed class ClintTests
{
    private readonly MachineClock _clock = new(deterministic: true);
    private readonly RecordingLine[] _software = [new(), new()];
    private readonly RecordingLine[] _timer = [new(), new()];
    private readonly Clint _clint;

    public ClintTests()
    {
        _clint = new Clint(_clock, _software, _timer);
    }

    [Fact]
    public void MsipDrivesTheSoftwareLineOfItsHart()
    {
        Assert.True(_clint.Write(4, 4, 1));
        Assert.False(_software[0].Level);
        Assert.True(_software[1].Level);
        Assert.True(_clint.Read(4, 4, out ulong v));
        Assert.Equal(1UL, v);
        _clint.Write(4, 4, 0xFFFF_FFFE); // only bit 0 exists
        Assert.False(_software[1].Level);
    }

    [Fact]
    public void TimerFiresWhenMtimeReachesMtimecmp()
    {
        _clint.Write(0x4000, 8, 100);
        Assert.False(_timer[0].Level);
        _clock.Advance(99);
        _clint.PollTimer(0);
        Assert.False(_timer[0].Level);
        _clock.Advance(1);
        _clint.PollTimer(0);
        Assert.True(_timer[0].Level);
        Assert.False(_timer[1].Level);
        _clint.Write(0x4000, 8, ulong.MaxValue); // rearming clears it at once
        Assert.False(_timer[0].Level);
    }

    [Fact]
    public void SixtyFourBitRegistersTakeThirtyTwoBitHalves()
    {
        _clint.Write(0x4008, 4, 0x1111_2222);
        _clint.Write(0x400C, 4, 0x3333_4444);
        Assert.Equal(0x3333_4444_1111_2222UL, _clint.GetTimeCompare(1));
        _clint.Read(0x400C, 4, out ulong high);
        Assert.Equal(0x3333_4444UL, high);
    }

    [Fact]
    public void MtimeReadsAndWritesTheMachineClock()
    {
        _clock.Advance(1234);
        _clint.Read(0xBFF8, 8, out ulong now);
        Assert.Equal(1234UL, now);
        _clint.Write(0xBFF8, 8, 1_000_000);
        Assert.Equal(1_000_000UL, _clock.Now);
    }

    [Fact]
    public void MisalignedOrOddSizedAccessesFault()
    {
        Assert.False(_clint.Read(2, 4, out _));
        Assert.False(_clint.Write(0x4000, 2, 0));
        Assert.False(_clint.Read(0, 8, out _)); // msip is 32-bit only
    }
}
