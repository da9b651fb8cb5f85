namespace Vessel.Networking;

/// <summary>A <c>switch:NAME[,dhcp=on|A.B.C.D/N][,router=A.B.C.D]</c> specification.</summary>
public sealed record SwitchPortOptions(string Name, SwitchDhcpSettings? Dhcp = null)
{
    public static SwitchPortOptions Parse(string specification)
    {
        ArgumentNullException.ThrowIfNull(specification);
        string text = specification.StartsWith("switch:", StringComparison.Ordinal) ? specification["switch:".Length..] : specification;
        string[] parts = text.Split(',');
        SwitchNetwork.ValidateName(parts[0]);
        string? dhcp = null;
        string? router = null;
        foreach (string part in parts.Skip(1))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            string name = equals > 0 ? part[..equals] : part;
            string value = equals > 0 ? part[(equals + 1)..] : "";
            switch (name)
            {
                case "dhcp" when dhcp is null && value.Length > 0:
                    dhcp = value;
                    break;
                case "router" when router is null && value.Length > 0:
                    router = value;
                    break;
                default:
                    throw new NetworkConfigurationException(
                        $"switch option '{part}' in '{specification}' is not one of dhcp=on|A.B.C.D/N, router=A.B.C.D (each at most once)");
            }
        }
        if (router is not null && dhcp is null)
        {
            throw new NetworkConfigurationException($"switch option router= in '{specification}' needs dhcp= (the router is announced by the switch's DHCP server)");
        }
        return new SwitchPortOptions(parts[0], dhcp is null ? null : SwitchDhcpSettings.Parse(dhcp, router));
    }
}
