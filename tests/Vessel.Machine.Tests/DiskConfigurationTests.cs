namespace Vessel.Machine.Tests;

/// <summary><c>--disk FILE[,format=…][,readonly=…][,iothread=…]</c> parsing, QEMU's spelling.</summary>
public sealed class DiskConfigurationTests
{
    [Theory]
    [InlineData("d.img", null, false, false)]
    [InlineData("d.img,format=qcow2", "qcow2", false, false)]
    [InlineData("d.img,readonly=on", null, true, false)]
    [InlineData("d.img,readonly", null, true, false)]
    [InlineData("d.img,iothread=on,readonly=off", null, false, true)]
    [InlineData("d.img,format=vmdk,iothread=off", "vmdk", false, false)]
    public void ParsesOptions(string text, string? format, bool readOnly, bool ioThread)
    {
        var disk = DiskConfiguration.Parse(text, out string? error);
        Assert.Null(error);
        Assert.Equal(new DiskConfiguration("d.img", format, readOnly, IoThread: ioThread), disk);
    }

    [Theory]
    [InlineData(",format=raw", "no file name")]
    [InlineData("d.img,iothread=maybe", "unknown option 'iothread=maybe'")]
    [InlineData("d.img,cache=none", "unknown option 'cache=none'")]
    [InlineData("d.img,bps=fast", "bps")]
    [InlineData("d.img,format=", "unknown option 'format='")]
    public void RefusesBadOptionsWithAMessage(string text, string expected)
    {
        Assert.Null(DiskConfiguration.Parse(text, out string? error));
        Assert.Contains(expected, error);
    }
}
