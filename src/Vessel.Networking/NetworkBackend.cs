namespace Vessel.Networking;

/// <summary>Opens the port a <c>--net</c> specification names: <c>user[,hostfwd=...]</c>, <c>switch:NAME[,dhcp=…]</c> or <c>tap:IFNAME</c>.</summary>
public static class NetworkBackend
{
    public static IEthernetPort Open(string specification)
    {
        ArgumentNullException.ThrowIfNull(specification);
        if (specification == "user" || specification.StartsWith("user,", StringComparison.Ordinal))
        {
            return new UserNetwork(UserNetworkOptions.Parse(specification));
        }
        if (specification.StartsWith("switch:", StringComparison.Ordinal))
        {
            return new SwitchPort(SwitchPortOptions.Parse(specification));
        }
        if (specification.StartsWith("tap:", StringComparison.Ordinal))
        {
            return new TapPort(specification["tap:".Length..]);
        }
        throw new NetworkConfigurationException(
            $"unknown network '{specification}': expected user[,hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport], switch:NAME or tap:IFNAME (switch options: dhcp=on|A.B.C.D/N, router=A.B.C.D)");
    }
}
