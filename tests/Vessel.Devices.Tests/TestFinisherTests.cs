namespace Vessel.Devices.Tests;

public sealed class TestFinisherTests
{
    private readonly TestFinisher _finisher = new();
    private readonly List<PowerRequest> _requests = [];

    public TestFinisherTests()
    {
        _finisher.PowerRequested += _requests.Add;
    }

    [Theory]
    [InlineData(4, 0x5555u, PowerRequestKind.PowerOff, 0)]
    [InlineData(4, 0x0003_3333u, PowerRequestKind.PowerOff, 3)]
    [InlineData(4, 0xFFFF_3333u, PowerRequestKind.PowerOff, 0xFFFF)]
    [InlineData(4, 0x7777u, PowerRequestKind.Reset, 0)]
    [InlineData(4, 0x1234_5555u, PowerRequestKind.PowerOff, 0)] // a pass ignores the code bits
    [InlineData(2, 0x5555u, PowerRequestKind.PowerOff, 0)] // OpenSBI's sifive_test driver uses writew
    [InlineData(2, 0x7777u, PowerRequestKind.Reset, 0)]
    [InlineData(2, 0x3333u, PowerRequestKind.PowerOff, 1)] // a failure without a code still fails
    public void WritesAtOffsetZeroRequestPowerChanges(int size, uint value, PowerRequestKind kind, int code)
    {
        Assert.True(_finisher.Write(0, size, value));
        Assert.Equal(new PowerRequest(kind, code), Assert.Single(_requests));
    }

    [Fact]
    public void OtherValuesAndOffsetsDoNothing()
    {
        Assert.True(_finisher.Write(0, 4, 0x1234));
        Assert.True(_finisher.Write(4, 4, 0x5555));
        Assert.True(_finisher.Write(0xFFC, 4, 0x7777));
        Assert.Empty(_requests);
    }

    [Fact]
    public void ReadsReturnZero()
    {
        _finisher.Write(0, 4, 0x1234);
        Assert.True(_finisher.Read(0, 4, out ulong value));
        Assert.Equal(0UL, value);
        Assert.True(_finisher.Read(0x10, 2, out value));
        Assert.Equal(0UL, value);
    }

    [Fact]
    public void OnlyAligned16And32BitAccessesAreValid()
    {
        Assert.False(_finisher.Write(0, 1, 0x55));
        Assert.False(_finisher.Write(0, 8, 0x5555));
        Assert.False(_finisher.Write(2, 4, 0x5555));
        Assert.False(_finisher.Read(1, 2, out _));
        Assert.False(_finisher.Read(TestFinisher.Size, 4, out _));
        Assert.Empty(_requests);
    }
}
