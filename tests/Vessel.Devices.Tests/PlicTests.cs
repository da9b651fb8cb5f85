namespace Vessel.Devices.Tests;

public sealed class PlicTests
{
    private readonly RecordingLine[] _contexts = [new(), new(), new(), new()];
    private readonly Plic _plic;

    public PlicTests()
    {
        _plic = new Plic(31, _contexts);
    }

    private void Priority(int source, uint value) => _plic.Write((ulong)(4 * source), 4, value);

    private void Enable(int context, uint mask) => _plic.Write(0x2000 + (0x80 * (ulong)context), 4, mask);

    private void Threshold(int context, uint value) => _plic.Write(0x20_0000 + (0x1000 * (ulong)context), 4, value);

    private ulong Claim(int context)
    {
        _plic.Read(0x20_0004 + (0x1000 * (ulong)context), 4, out ulong id);
        return id;
    }

    private void Complete(int context, ulong id) => _plic.Write(0x20_0004 + (0x1000 * (ulong)context), 4, id);

    [Fact]
    public void AnEnabledSourceAboveThresholdInterruptsItsContext()
    {
        Priority(10, 1);
        Enable(1, 1u << 10);
        _plic.GetSourceLine(10).Set(true);
        Assert.True(_contexts[1].Level);
        Assert.False(_contexts[0].Level); // not enabled there
        _plic.Read(0x1000, 4, out ulong pending);
        Assert.Equal(1UL << 10, pending);
    }

    [Fact]
    public void PriorityZeroOrAtThresholdNeverInterrupts()
    {
        Enable(0, 1u << 3);
        _plic.GetSourceLine(3).Set(true);
        Assert.False(_contexts[0].Level); // priority 0
        Priority(3, 2);
        Threshold(0, 2);
        Assert.False(_contexts[0].Level); // must be strictly greater
        Threshold(0, 1);
        Assert.True(_contexts[0].Level);
    }

    [Fact]
    public void ClaimTakesTheHighestPriorityAndTiesGoToTheLowestId()
    {
        Priority(5, 3);
        Priority(7, 3);
        Priority(9, 5);
        Enable(0, (1u << 5) | (1u << 7) | (1u << 9));
        foreach (int s in new[] { 5, 7, 9 })
        {
            _plic.GetSourceLine(s).Set(true);
        }

        Assert.Equal(9UL, Claim(0));
        Assert.Equal(5UL, Claim(0));
        Assert.Equal(7UL, Claim(0));
        Assert.Equal(0UL, Claim(0)); // nothing left
        Assert.False(_contexts[0].Level);
    }

    [Fact]
    public void ALevelStillHighAtCompleteIsPendingAgain()
    {
        Priority(1, 1);
        Enable(0, 1u << 1);
        var line = _plic.GetSourceLine(1);
        line.Set(true);
        Assert.Equal(1UL, Claim(0));
        Assert.False(_contexts[0].Level); // claimed: not pending
        Complete(0, 1);
        Assert.True(_contexts[0].Level); // still asserted
        Assert.Equal(1UL, Claim(0));
        line.Set(false);
        Complete(0, 1);
        Assert.False(_contexts[0].Level);
    }

    [Fact]
    public void RegistersHoldWhatTheSpecAllows()
    {
        Priority(2, 0xFF);
        _plic.Read(8, 4, out ulong priority);
        Assert.Equal(7UL, priority); // three priority bits
        Enable(2, 0xFFFF_FFFF);
        _plic.Read(0x2000 + 0x100, 4, out ulong enables);
        Assert.Equal(0xFFFF_FFFEUL, enables); // source 0 does not exist
        Assert.False(_plic.Read(0x2002, 2, out _)); // only 32-bit accesses
        Assert.Throws<ArgumentOutOfRangeException>(() => _plic.GetSourceLine(0));
    }
}
