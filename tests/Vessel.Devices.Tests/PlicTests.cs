namespace Vessel.Devices.Tests;

public sealed class PlicTests
{
    private const int QemuVirtSources = 0x5F;

    // Two harts: context 0 = hart 0 M, 1 = hart 0 S, 2 = hart 1 M, 3 = hart 1 S.
    private readonly RecordingLine[] _contexts = [new(), new(), new(), new()];
    private readonly Plic _plic;

    public PlicTests()
    {
        _plic = new Plic(QemuVirtSources, _contexts);
    }

    private ulong Read(ulong offset)
    {
        Assert.True(_plic.Read(offset, 4, out ulong value));
        return value;
    }

    private void Write(ulong offset, ulong value) => Assert.True(_plic.Write(offset, 4, value));

    private void Priority(int source, uint value) => Write((ulong)(4 * source), value);

    private void Enable(int context, int word, uint mask) => Write(0x2000 + (0x80 * (ulong)context) + (4 * (ulong)word), mask);

    private void Threshold(int context, uint value) => Write(0x20_0000 + (0x1000 * (ulong)context), value);

    private ulong Claim(int context) => Read(0x20_0004 + (0x1000 * (ulong)context));

    private void Complete(int context, ulong id) => Write(0x20_0004 + (0x1000 * (ulong)context), id);

    private void Raise(params int[] sources)
    {
        foreach (int source in sources)
        {
            _plic.GetSourceLine(source).Set(true);
        }
    }

    [Fact]
    public void PriorityRegistersHoldThreeWarlBits()
    {
        Priority(2, 0xFF);
        Assert.Equal(7UL, Read(8));
        Priority(2, 0x0A);
        Assert.Equal(2UL, Read(8));
        Priority(QemuVirtSources, 5);
        Assert.Equal(5UL, Read(4 * QemuVirtSources));
    }

    [Fact]
    public void SourceZeroAndSourcesBeyondNdevHaveNoPriority()
    {
        Priority(0, 7);
        Assert.Equal(0UL, Read(0));
        Priority(QemuVirtSources + 1, 7);
        Assert.Equal(0UL, Read(4 * (QemuVirtSources + 1)));
    }

    [Fact]
    public void PendingBitsFollowTheLevelAndIgnoreWrites()
    {
        var line = _plic.GetSourceLine(10);
        line.Set(true);
        _plic.GetSourceLine(40).Set(true);
        Assert.Equal(1UL << 10, Read(0x1000));
        Assert.Equal(1UL << (40 - 32), Read(0x1004));
        Write(0x1000, 0); // read-only
        Assert.Equal(1UL << 10, Read(0x1000));
        line.Set(false); // a level source that drops before its claim is no longer pending (as in QEMU)
        Assert.Equal(0UL, Read(0x1000));
        Assert.Equal(0UL, Read(0x100C)); // past the last source word
    }

    [Fact]
    public void EnablesOfSourcesThatDoNotExistAreHardwiredToZero()
    {
        Enable(2, 0, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFEUL, Read(0x2000 + 0x100)); // source 0
        Enable(2, 2, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFFUL, Read(0x2000 + 0x108)); // sources 64..95: 95 is riscv,ndev
        var small = new Plic(40, [new RecordingLine()]);
        Assert.True(small.Write(0x2004, 4, 0xFFFF_FFFF));
        Assert.True(small.Read(0x2004, 4, out ulong word1));
        Assert.Equal(0x1FFUL, word1); // sources 32..40
        Assert.True(small.Read(0x2008, 4, out ulong word2));
        Assert.Equal(0UL, word2);
    }

    [Fact]
    public void EnableWordsBelongToTheirOwnContext()
    {
        Enable(0, 0, 0x0000_0F00);
        Enable(3, 1, 0x0000_0001);
        Assert.Equal(0xF00UL, Read(0x2000));
        Assert.Equal(0UL, Read(0x2080));
        Assert.Equal(1UL, Read(0x2000 + (3 * 0x80) + 4));
        Assert.Equal(0UL, Read(0x2000 + (4 * 0x80))); // a fifth context does not exist
    }

    [Fact]
    public void ThresholdsHoldThreeWarlBitsPerContext()
    {
        Threshold(1, 0xFE);
        Assert.Equal(6UL, Read(0x20_1000));
        Assert.Equal(0UL, Read(0x20_0000));
        Threshold(4, 3); // no such context
        Assert.Equal(0UL, Read(0x20_4000));
    }

    [Fact]
    public void AnEnabledSourceAboveThresholdInterruptsOnlyItsContext()
    {
        Priority(10, 1);
        Enable(1, 0, 1u << 10);
        Raise(10);
        Assert.True(_contexts[1].Level);
        Assert.False(_contexts[0].Level);
        Assert.False(_contexts[2].Level);
        Assert.False(_contexts[3].Level);
        Enable(1, 0, 0);
        Assert.False(_contexts[1].Level);
    }

    [Fact]
    public void PriorityZeroOrNotAboveTheThresholdNeverInterrupts()
    {
        Enable(0, 0, 1u << 3);
        Raise(3);
        Assert.False(_contexts[0].Level); // priority 0 means "never interrupt"
        Assert.Equal(0UL, Claim(0));
        Priority(3, 2);
        Threshold(0, 2);
        Assert.False(_contexts[0].Level); // must be strictly greater
        Assert.Equal(0UL, Claim(0));
        Threshold(0, 1);
        Assert.True(_contexts[0].Level);
        Priority(3, 0);
        Assert.False(_contexts[0].Level);
    }

    [Fact]
    public void ClaimTakesTheHighestPriorityAndTiesGoToTheLowestId()
    {
        Priority(5, 3);
        Priority(7, 3);
        Priority(9, 5);
        Priority(70, 3);
        Enable(0, 0, (1u << 5) | (1u << 7) | (1u << 9));
        Enable(0, 2, 1u << (70 - 64));
        Raise(70, 7, 9, 5);

        Assert.Equal(9UL, Claim(0));
        Assert.Equal(5UL, Claim(0));
        Assert.Equal(7UL, Claim(0));
        Assert.Equal(70UL, Claim(0));
        Assert.Equal(0UL, Claim(0)); // nothing left
        Assert.False(_contexts[0].Level);
    }

    [Fact]
    public void AClaimedSourceStaysQuietUntilCompletedThenRepends()
    {
        Priority(1, 1);
        Enable(0, 0, 1u << 1);
        var line = _plic.GetSourceLine(1);
        line.Set(true);
        Assert.Equal(1UL, Claim(0));
        Assert.False(_contexts[0].Level);
        Assert.Equal(0UL, Read(0x1000)); // the claim cleared the pending bit

        line.Set(false);
        line.Set(true); // a new request while claimed waits at the gateway
        Assert.Equal(0UL, Read(0x1000));
        Assert.Equal(0UL, Claim(0));

        Complete(0, 1);
        Assert.True(_contexts[0].Level); // still asserted: pending again
        Assert.Equal(2UL, Read(0x1000));
        Assert.Equal(1UL, Claim(0));
        line.Set(false);
        Complete(0, 1);
        Assert.False(_contexts[0].Level); // dropped before completion: not pending
        Assert.Equal(0UL, Read(0x1000));
    }

    [Fact]
    public void CompletionsOfSourcesNotClaimedOrOutOfRangeAreIgnored()
    {
        Priority(4, 1);
        Enable(0, 0, 1u << 4);
        Raise(4);
        Complete(0, 4); // not claimed: no effect
        Complete(0, 0);
        Complete(0, 1000);
        Assert.Equal(4UL, Claim(0));
        Complete(0, 5);
        Assert.Equal(0UL, Claim(0)); // 4 is still claimed
    }

    [Fact]
    public void ContextsShareSourcesButClaimSeparately()
    {
        Priority(8, 2);
        Enable(1, 0, 1u << 8); // hart 0 S-mode
        Enable(3, 0, 1u << 8); // hart 1 S-mode
        Threshold(3, 0);
        Raise(8);
        Assert.True(_contexts[1].Level);
        Assert.True(_contexts[3].Level);

        Assert.Equal(8UL, Claim(3)); // hart 1 wins the race
        Assert.False(_contexts[1].Level);
        Assert.False(_contexts[3].Level);
        Assert.Equal(0UL, Claim(1));

        Complete(1, 8); // completion may come through another context (QEMU honours it)
        Assert.True(_contexts[1].Level);
        Assert.True(_contexts[3].Level);
    }

    [Fact]
    public void ThresholdsSeparateMachineAndSupervisorContextsOfAHart()
    {
        Priority(12, 4);
        Enable(0, 0, 1u << 12);
        Enable(1, 0, 1u << 12);
        Threshold(0, 7); // M-mode masks everything
        Raise(12);
        Assert.False(_contexts[0].Level);
        Assert.True(_contexts[1].Level);
        Assert.Equal(0UL, Claim(0));
        Assert.Equal(12UL, Claim(1));
    }

    [Fact]
    public void OutputLinesSeeOnlyEdges()
    {
        Priority(2, 1);
        Priority(3, 1);
        Enable(0, 0, (1u << 2) | (1u << 3));
        Raise(2, 3, 2, 3);
        Assert.Equal(1, _contexts[0].Changes);
    }

    [Fact]
    public void AccessesMustBeAligned32BitWordsInsideTheWindow()
    {
        Assert.False(_plic.Read(0x2002, 2, out _));
        Assert.False(_plic.Read(0x2000, 8, out _));
        Assert.False(_plic.Write(0x20_0001, 4, 0));
        Assert.False(_plic.Write(0x20_0004, 1, 1));
        Assert.False(_plic.Read(Plic.Size, 4, out _));
        Assert.Equal(0UL, Read(0x20_0008)); // reserved context word
        Assert.Equal(0UL, Read(0x1F_FFFC)); // unused enable space
    }

    [Fact]
    public void SourceLinesExistForOneToNdev()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _plic.GetSourceLine(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _plic.GetSourceLine(QemuVirtSources + 1));
        Assert.Same(_plic.GetSourceLine(QemuVirtSources), _plic.GetSourceLine(QemuVirtSources));
        Assert.Equal(QemuVirtSources, _plic.SourceCount);
        Assert.Equal(4, _plic.ContextCount);
    }

    [Fact]
    public async Task ADeviceOnAnotherThreadNeverLosesAnInterrupt()
    {
        const int Requests = 2_000;
        Priority(20, 1);
        Enable(1, 0, 1u << 20);
        var line = _plic.GetSourceLine(20);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int handled = 0;
        var device = Task.Run(() =>
        {
            for (int i = 0; i < Requests && DateTime.UtcNow < deadline; i++)
            {
                line.Set(true);
                SpinWait.SpinUntil(() => Volatile.Read(ref handled) > i || DateTime.UtcNow >= deadline);
            }
        });

        while (Volatile.Read(ref handled) < Requests && DateTime.UtcNow < deadline)
        {
            if (Claim(1) == 20)
            {
                line.Set(false); // the handler quiets the device, then completes
                Interlocked.Increment(ref handled);
                Complete(1, 20);
            }
        }

        await device;
        Assert.Equal(Requests, handled);
        Assert.False(_contexts[1].Level);
    }
}
