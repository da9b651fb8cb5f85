using System.Globalization;
using System.Net;

namespace Vessel.Networking;

/// <summary>
/// The built-in DHCP server of a switch (<c>switch:NAME,dhcp=on|A.B.C.D/N[,router=A.B.C.D]</c>): the subnet it
/// leases from, the server at its first address (.1), and an optional router (option 3).
/// </summary>
public sealed record SwitchDhcpSettings
{
    public const string DefaultSubnet = "10.0.3.0/24";

    private SwitchDhcpSettings(uint network, int prefixLength, uint router)
    {
        NetworkValue = network;
        PrefixLength = prefixLength;
        RouterValue = router;
    }

    public int PrefixLength { get; }

    public IPAddress Network => UserNetworkAddresses.FromValue(NetworkValue);

    public IPAddress Server => UserNetworkAddresses.FromValue(ServerValue);

    public IPAddress? Router => RouterValue == 0 ? null : UserNetworkAddresses.FromValue(RouterValue);

    internal uint NetworkValue { get; }

    internal uint RouterValue { get; }

    internal uint MaskValue => uint.MaxValue << (32 - PrefixLength);

    internal uint BroadcastValue => NetworkValue | ~MaskValue;

    internal uint ServerValue => NetworkValue + 1;

    /// <summary>True for an address a client may lease: inside the subnet, not the network, broadcast, server or router.</summary>
    internal bool IsPoolAddress(uint address) =>
        (address & MaskValue) == NetworkValue && address != NetworkValue && address != BroadcastValue
        && address != ServerValue && address != RouterValue;

    internal bool Contains(uint address) => (address & MaskValue) == NetworkValue;

    /// <summary>
    /// Parses the value of <c>dhcp=</c> (<c>on</c> or a subnet <c>A.B.C.D/N</c>, N from 8 to 30) and of
    /// <c>router=</c> (null for none).
    /// </summary>
    public static SwitchDhcpSettings Parse(string dhcp, string? router = null)
    {
        ArgumentNullException.ThrowIfNull(dhcp);
        string subnet = dhcp == "on" ? DefaultSubnet : dhcp;
        int slash = subnet.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0
            || !TryParseAddress(subnet[..slash], out uint network)
            || !int.TryParse(subnet[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
        {
            throw new NetworkConfigurationException($"switch option dhcp='{dhcp}' must be 'on' or an IPv4 subnet like {DefaultSubnet}");
        }
        if (prefix is < 8 or > 30)
        {
            throw new NetworkConfigurationException($"switch option dhcp='{dhcp}': the prefix length must be 8 to 30 (a /30 still leaves one client address)");
        }
        uint mask = uint.MaxValue << (32 - prefix);
        if ((network & ~mask) != 0)
        {
            throw new NetworkConfigurationException(
                $"switch option dhcp='{dhcp}' has host bits set; the subnet is {UserNetworkAddresses.FromValue(network & mask)}/{prefix}");
        }
        var settings = new SwitchDhcpSettings(network, prefix, 0);
        if (router is null)
        {
            return settings;
        }
        if (!TryParseAddress(router, out uint routerValue) || !settings.IsPoolAddress(routerValue))
        {
            throw new NetworkConfigurationException(
                $"switch option router='{router}' must be an address inside {settings.Network}/{prefix} other than the network, broadcast and DHCP server ({settings.Server}) addresses");
        }
        return new SwitchDhcpSettings(network, prefix, routerValue);
    }

    /// <summary>The text kept in the switch's <c>NAME.dhcp</c> file, parsed back by <see cref="FromFileText"/>.</summary>
    public string ToFileText() =>
        $"subnet={Network}/{PrefixLength}\n" + (Router is { } r ? $"router={r}\n" : "");

    /// <summary>Reads <see cref="ToFileText"/>'s format; null if the text is not that (a damaged or foreign file).</summary>
    public static SwitchDhcpSettings? FromFileText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? subnet = null;
        string? router = null;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("subnet=", StringComparison.Ordinal))
            {
                subnet = line["subnet=".Length..];
            }
            else if (line.StartsWith("router=", StringComparison.Ordinal))
            {
                router = line["router=".Length..];
            }
            else
            {
                return null;
            }
        }
        try
        {
            return subnet is null ? null : Parse(subnet, router);
        }
        catch (NetworkConfigurationException)
        {
            return null;
        }
    }

    public override string ToString() =>
        $"dhcp={Network}/{PrefixLength}" + (Router is { } r ? $",router={r}" : "");

    private static bool TryParseAddress(string text, out uint value)
    {
        value = 0;
        // IPAddress.TryParse also takes "10" or "10.1"; insist on the dotted quad people write in configurations.
        if (text.Count(c => c == '.') != 3 || !IPAddress.TryParse(text, out IPAddress? address)
            || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return false;
        }
        value = UserNetworkAddresses.ToValue(address);
        return true;
    }
}
