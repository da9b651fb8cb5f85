using System.Net;

namespace Vessel.Networking.Tests;

public sealed class UserNetworkOptionsTests
{
    [Fact]
    public void Parse_QemuHostfwdSyntax_SeveralForwards()
    {
        UserNetworkOptions options = UserNetworkOptions.Parse("user,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp::5353-10.0.2.15:53,hostfwd=:2222-:22");
        Assert.Equal(3, options.HostForwards.Count);
        Assert.Equal(new PortForward(ForwardProtocol.Tcp, IPAddress.Loopback, 8080, IPAddress.Parse("10.0.2.15"), 80), options.HostForwards[0]);
        Assert.Equal(new PortForward(ForwardProtocol.Udp, IPAddress.Any, 5353, IPAddress.Parse("10.0.2.15"), 53), options.HostForwards[1]);
        Assert.Equal(ForwardProtocol.Tcp, options.HostForwards[2].Protocol);
        Assert.Equal(2222, options.HostForwards[2].HostPort);
        Assert.Equal("tcp:127.0.0.1:8080-10.0.2.15:80", options.HostForwards[0].ToString());
    }

    [Fact]
    public void Parse_UserAlone_AndDnsOverride()
    {
        Assert.Empty(UserNetworkOptions.Parse("user").HostForwards);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.168.1.1"), 53), UserNetworkOptions.Parse("user,dns=192.168.1.1").DnsServer);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5300), UserNetworkOptions.Parse("dns=127.0.0.1:5300").DnsServer);
    }

    [Theory]
    [InlineData("user,hostfwd=tcp:127.0.0.1:8080:80", "missing '-'")]
    [InlineData("user,hostfwd=sctp::80-:80", "protocol must be tcp or udp")]
    [InlineData("user,hostfwd=tcp:1.2.3:80-:80", "not a dotted IPv4 address")]
    [InlineData("user,hostfwd=tcp::99999-:80", "host port '99999'")]
    [InlineData("user,hostfwd=tcp::80-:", "guest port ''")]
    [InlineData("user,hostfwd=tcp::80-:0", "guest port must be 1..65535")]
    [InlineData("user,hostfwd=tcp::80-10.0.2.15", "guest side must be")]
    [InlineData("user,hostfwd=tcp:a:b:80-:80", "host side must be")]
    [InlineData("user,restrict=on", "unknown user network option 'restrict'")]
    [InlineData("user,hostfwd", "must be NAME=VALUE")]
    [InlineData("user,dns=nowhere", "dns='nowhere'")]
    [InlineData("user,hostfwd=tcp::80-:80,hostfwd=tcp::80-:81", "forwarded twice")]
    public void Parse_BadSyntax_SaysWhatIsWrong(string text, string expected)
    {
        var error = Assert.Throws<NetworkConfigurationException>(() => UserNetworkOptions.Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadNameserver_TakesTheFirstIpv4Entry()
    {
        Assert.Equal(IPAddress.Parse("127.0.0.53"),
            UserNetworkOptions.ReadNameserver("# comment\nsearch x\nnameserver ::1\nnameserver 127.0.0.53\nnameserver 8.8.8.8\n"));
        Assert.Null(UserNetworkOptions.ReadNameserver("search example\n"));
    }

    [Fact]
    public void UserNetwork_HostfwdOnABusyPort_FailsWithAClearError()
    {
        using var busy = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        int port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var error = Assert.Throws<NetworkConfigurationException>(() => new UserNetwork(UserNetworkOptions.Parse($"user,hostfwd=tcp:127.0.0.1:{port}-:80")));
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }
}
