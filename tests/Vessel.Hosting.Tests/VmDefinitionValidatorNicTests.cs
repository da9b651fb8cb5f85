using Vessel.Hosting;

namespace Vessel.Hosting.Tests;

/// <summary>NICs in a VM definition: the default NAT NIC, <c>none</c>, MACs pinned at create time, bad specs named.</summary>
public sealed class VmDefinitionValidatorNicTests
{
    private static readonly VmDefinitionValidator Validator = new(new HostCapacity(4, 8UL << 30));

    [Fact]
    public void NoNicsGivesOneUserNatNicWithAPinnedMac()
    {
        var definition = Validator.Validate(new VmCreateRequest { Name = "a" });
        string nic = Assert.Single(definition.Nics);
        Assert.Matches("^user,mac=52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$", nic);
    }

    [Fact]
    public void TwoVmsGetDifferentMacs()
    {
        string a = Validator.Validate(new VmCreateRequest { Name = "a" }).Nics[0];
        string b = Validator.Validate(new VmCreateRequest { Name = "b" }).Nics[0];
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void NoneMeansNoNic() => Assert.Empty(Validator.Validate(new VmCreateRequest { Name = "a", Nics = ["none"] }).Nics);

    [Fact]
    public void GivenMacAndOptionsAreKept()
    {
        var definition = Validator.Validate(new VmCreateRequest
        {
            Name = "a",
            Nics = ["user,hostfwd=tcp:127.0.0.1:8080-:80,mac=52:54:00:aa:bb:cc", "switch:lan,dhcp=on"],
        });
        Assert.Equal("user,hostfwd=tcp:127.0.0.1:8080-:80,mac=52:54:00:aa:bb:cc", definition.Nics[0]);
        Assert.StartsWith("switch:lan,dhcp=on,mac=52:54:00:", definition.Nics[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus", "nics[0]")]
    [InlineData("user,hostfwd=tcp:nonsense", "nics[0]")]
    [InlineData("switch:", "nics[0]")]
    [InlineData("user,mac=01:00:00:00:00:01", "nics[0]")]
    [InlineData("user,pcap=relative.pcap", "nics[0]")]
    public void BadNicsAreNamedInTheErrors(string nic, string field)
    {
        var e = Assert.Throws<VmValidationException>(() => Validator.Validate(new VmCreateRequest { Name = "a", Nics = [nic] }));
        Assert.True(e.Errors.ContainsKey(field), string.Join("; ", e.Errors.Keys));
        Assert.Contains(nic.Split(',')[0], string.Join(" ", e.Errors[field]), StringComparison.Ordinal);
    }

    [Fact]
    public void NoneWithAnotherNicIsRefused()
    {
        var e = Assert.Throws<VmValidationException>(() => Validator.Validate(new VmCreateRequest { Name = "a", Nics = ["none", "user"] }));
        Assert.Contains("none", e.Errors["nics"][0], StringComparison.Ordinal);
    }
}
