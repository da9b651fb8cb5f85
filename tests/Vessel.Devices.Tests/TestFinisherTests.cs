namespace Vessel.Devices.Tests;

public sealed class TestFinisherTests
{
    [Theory]
    [InlineData(0x5555u, PowerRequestKind.PowerOff, 0)]
    [InlineData(0x0003_3333u, PowerRequestKind.PowerOff, 3)]
    [InlineData(0x7777u, PowerRequestKind.Reset, 0)]
    public void WritesRequestPowerChanges(uint value, PowerRequestKind kind, int code)
    {
        var finisher = new TestFinisher();
        PowerRequest? seen = null;
        finisher.PowerRequested += r => seen = r;
        finisher.Write(0, 4, value);
        Assert.Equal(new PowerRequest(kind, code), seen);
    }

    [Fact]
    public void OtherValuesDoNothing()
    {
        var finisher = new TestFinisher();
        bool seen = false;
        finisher.PowerRequested += _ => seen = true;
        finisher.Write(0, 4, 0x1234);
        Assert.False(seen);
    }
}
