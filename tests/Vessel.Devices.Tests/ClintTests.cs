using Vessel.Machine.Abstractions;

namespace Vessel.Devices.Tests;

public sealed class ClintTests
{
    private const ulong Msip = 0x0000;
    private const ulong Mtimecmp = 0x4000;
    private const ulong Mtime = 0xBFF8;

    private readonly MachineClock _clock = new(deterministic: true);
    private readonly RecordingLine[] _software = [new(), new()];
    private readonly RecordingLine[] _timer = [new(), new()];
    private readonly Clint _clint;

    public ClintTests()
    {
        _clint = new Clint(_clock, _software, _timer);
    }

    private ulong Read(ulong offset, int size)
    {
        Assert.True(_clint.Read(offset, size, out ulong value));
        return value;
    }

    private void Write(ulong offset, int size, ulong value) => Assert.True(_clint.Write(offset, size, value));

    [Fact]
    public void MsipDrivesTheSoftwareLineOfItsHart()
    {
        Write(Msip + 4, 4, 1);
        Assert.False(_software[0].Level);
        Assert.True(_software[1].Level);
        Assert.Equal(1UL, Read(Msip + 4, 4));
        Assert.Equal(0UL, Read(Msip, 4));

        Write(Msip + 4, 4, 0xFFFF_FFFE); // only bit 0 exists
        Assert.False(_software[1].Level);
        Assert.Equal(0UL, Read(Msip + 4, 4));
    }

    [Fact]
    public void MsipTakesOnlyAligned32BitAccesses()
    {
        Assert.False(_clint.Read(Msip, 8, out _));
        Assert.False(_clint.Write(Msip, 1, 1));
        Assert.False(_clint.Write(Msip, 2, 1));
        Assert.False(_clint.Read(Msip + 2, 4, out _));
        Assert.False(_clint.Read(0x100, 8, out _)); // beyond the harts too: the whole MSWI is 32-bit
        Assert.False(_software[0].Level);
    }

    [Fact]
    public void MsipOfAHartThatDoesNotExistReadsZeroAndIgnoresWrites()
    {
        Write(Msip + 8, 4, 1);
        Assert.Equal(0UL, Read(Msip + 8, 4));
        Assert.All(_software, line => Assert.False(line.Level));
    }

    [Fact]
    public void MtimecmpResetsToAllOnes()
    {
        Assert.Equal(ulong.MaxValue, _clint.GetTimeCompare(0));
        Assert.Equal(ulong.MaxValue, Read(Mtimecmp + 8, 8));
        Assert.Equal(0xFFFF_FFFFUL, Read(Mtimecmp, 4));
        Assert.Equal(0xFFFF_FFFFUL, Read(Mtimecmp + 4, 4));
        Assert.Equal(2, _clint.HartCount);
    }

    [Fact]
    public void PollTimerRaisesTheLineOnceMtimeReachesMtimecmp()
    {
        Write(Mtimecmp, 8, 100);
        Assert.False(_timer[0].Level);
        _clock.Advance(99);
        _clint.PollTimer(0);
        Assert.False(_timer[0].Level);
        _clock.Advance(1);
        _clint.PollTimer(0);
        Assert.True(_timer[0].Level);
        Assert.False(_timer[1].Level);
    }

    [Fact]
    public void WritingMtimecmpReevaluatesTheLineAtOnce()
    {
        _clock.Advance(500);
        Write(Mtimecmp + 8, 8, 400); // already in the past
        Assert.True(_timer[1].Level);
        Write(Mtimecmp + 8, 8, ulong.MaxValue); // re-arming clears it without a poll
        Assert.False(_timer[1].Level);
        Assert.False(_timer[0].Level);
    }

    [Fact]
    public void MtimecmpTakesThirtyTwoBitHalves()
    {
        Write(Mtimecmp + 8, 4, 0x1111_2222);
        Assert.Equal(0xFFFF_FFFF_1111_2222UL, _clint.GetTimeCompare(1)); // the high half is untouched
        Write(Mtimecmp + 12, 4, 0x3333_4444);
        Assert.Equal(0x3333_4444_1111_2222UL, _clint.GetTimeCompare(1));
        Assert.Equal(0x1111_2222UL, Read(Mtimecmp + 8, 4));
        Assert.Equal(0x3333_4444UL, Read(Mtimecmp + 12, 4));
        Assert.Equal(0x3333_4444_1111_2222UL, Read(Mtimecmp + 8, 8));
        Assert.Equal(ulong.MaxValue, _clint.GetTimeCompare(0));
    }

    [Fact]
    public void TheRv32WayOfSettingMtimecmpRaisesNoEarlyInterrupt()
    {
        // Privileged spec 3.2.1: write all-ones to the low half first, then the high half, then the low half.
        _clock.Advance(0x1_0000_0000);
        Write(Mtimecmp, 4, 0xFFFF_FFFF);
        Write(Mtimecmp + 4, 4, 0x2);
        Write(Mtimecmp, 4, 0x10);
        Assert.Equal(0x2_0000_0010UL, _clint.GetTimeCompare(0));
        Assert.Equal(0, _timer[0].Changes);
    }

    [Fact]
    public void MtimeReadsTheClockWholeOrInHalves()
    {
        _clock.Advance(0x1_2345_6789);
        Assert.Equal(0x1_2345_6789UL, Read(Mtime, 8));
        Assert.Equal(0x2345_6789UL, Read(Mtime, 4));
        Assert.Equal(0x1UL, Read(Mtime + 4, 4));
    }

    [Fact]
    public void WritingMtimeSetsTheClockAndReevaluatesEveryTimer()
    {
        Write(Mtimecmp, 8, 1_000);
        Write(Mtimecmp + 8, 8, 2_000);
        Write(Mtime, 8, 1_500);
        Assert.Equal(1_500UL, _clock.Now);
        Assert.True(_timer[0].Level);
        Assert.False(_timer[1].Level);

        Write(Mtime + 4, 4, 1); // high half only
        Assert.Equal(0x1_0000_05DCUL, _clock.Now);
        Assert.True(_timer[1].Level);

        Write(Mtime, 4, 0); // low half only
        Assert.Equal(0x1_0000_0000UL, _clock.Now);

        Write(Mtime, 8, 0);
        Assert.False(_timer[0].Level);
        Assert.False(_timer[1].Level);
    }

    [Fact]
    public void PollAllTimersUpdatesEveryHart()
    {
        Write(Mtimecmp, 8, 10);
        Write(Mtimecmp + 8, 8, 20);
        _clock.Advance(25);
        Assert.False(_timer[0].Level);
        _clint.PollAllTimers();
        Assert.True(_timer[0].Level);
        Assert.True(_timer[1].Level);
    }

    [Fact]
    public void LinesSeeOnlyEdges()
    {
        Write(Mtimecmp, 8, 0);
        for (int i = 0; i < 5; i++)
        {
            _clint.PollTimer(0);
            Write(Msip, 4, 1);
        }

        Assert.Equal(1, _timer[0].Changes);
        Assert.Equal(1, _software[0].Changes);
    }

    [Fact]
    public void MtimerTakesAligned32Or64BitAccessesAndEndsAt0xC000()
    {
        Assert.False(_clint.Read(Mtimecmp + 4, 8, out _)); // misaligned doubleword
        Assert.False(_clint.Write(Mtimecmp, 2, 0));
        Assert.False(_clint.Read(Mtime, 1, out _));
        Assert.False(_clint.Read(0xC000, 4, out _));
        Assert.False(_clint.Write(0xFFF8, 8, 0));
        Assert.Equal(0UL, Read(Mtimecmp + 16, 8)); // a hart that does not exist
        Assert.Equal(0UL, Read(0x8000, 4)); // unused MTIMER space reads zero, like QEMU
        Write(0x8000, 8, 123);
        Assert.Equal(ulong.MaxValue, _clint.GetTimeCompare(1));
    }

    [Fact]
    public async Task ConcurrentPollsAndWritesLeaveTheLineMatchingTheLastWrite()
    {
        _clock.Advance(1_000);
        var poller = Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                _clint.PollTimer(0);
            }
        });
        for (int i = 0; i < 20_000; i++)
        {
            Write(Mtimecmp, 8, (ulong)(i % 2 == 0 ? 0 : 5_000));
        }

        await poller;
        Assert.False(_timer[0].Level); // the last write (5000) is in the future
        Write(Mtimecmp, 8, 0);
        Assert.True(_timer[0].Level);
    }
}
