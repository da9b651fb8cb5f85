namespace Vessel.Networking.Tests;

public sealed class SwitchPortOptionsTests
{
    [Fact]
    public void Parse_ReadsNameDhcpAndRouter()
    {
        Assert.Equal(new SwitchPortOptions("lan"), SwitchPortOptions.Parse("switch:lan"));
        SwitchPortOptions on = SwitchPortOptions.Parse("switch:lan,dhcp=on");
        Assert.Equal("10.0.3.0/24", $"{on.Dhcp!.Network}/{on.Dhcp.PrefixLength}");
        Assert.Equal("10.0.3.1", on.Dhcp.Server.ToString());
        Assert.Null(on.Dhcp.Router);
        SwitchPortOptions custom = SwitchPortOptions.Parse("switch:lan,dhcp=10.9.0.0/16,router=10.9.255.1");
        Assert.Equal("10.9.255.1", custom.Dhcp!.Router!.ToString());
        Assert.Equal(custom.Dhcp, SwitchDhcpSettings.FromFileText(custom.Dhcp.ToFileText()));
    }

    [Theory]
    [InlineData("switch:lan,dhcp=10.9.0.1/24", "host bits set; the subnet is 10.9.0.0/24")]
    [InlineData("switch:lan,dhcp=10.9.0.0/31", "prefix length must be 8 to 30")]
    [InlineData("switch:lan,dhcp=10.9/24", "must be 'on' or an IPv4 subnet")]
    [InlineData("switch:lan,dhcp=yes", "must be 'on' or an IPv4 subnet")]
    [InlineData("switch:lan,dhcp=on,router=10.0.4.1", "router='10.0.4.1' must be an address inside 10.0.3.0/24")]
    [InlineData("switch:lan,dhcp=on,router=10.0.3.1", "other than the network, broadcast and DHCP server")]
    [InlineData("switch:lan,router=10.0.3.9", "needs dhcp=")]
    [InlineData("switch:lan,dhcp=on,dhcp=on", "each at most once")]
    [InlineData("switch:lan,speed=10", "is not one of dhcp=")]
    [InlineData("switch:../x,dhcp=on", "switch name '../x'")]
    public void Parse_RejectsBadOptionsWithAMessage(string specification, string message)
    {
        var error = Assert.Throws<NetworkConfigurationException>(() => SwitchPortOptions.Parse(specification));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("subnet=10.0.3.0/24\nrouter=banana\n")]
    [InlineData("subnet=10.0.3.0/24\nsomething=1\n")]
    [InlineData("")]
    [InlineData("\0\0\0")]
    public void FromFileText_ReturnsNullForDamagedFiles(string text) =>
        Assert.Null(SwitchDhcpSettings.FromFileText(text));
}
