using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>
/// A host-to-guest port forward in QEMU's <c>hostfwd=</c> syntax: <c>[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport</c>.
/// An empty host address means any (0.0.0.0); an empty guest address means the DHCP address 10.0.2.15.
/// </summary>
public sealed record PortForward(ForwardProtocol Protocol, IPAddress HostAddress, int HostPort, IPAddress GuestAddress, int GuestPort)
{
    /// <summary>Parses the value of one <c>hostfwd=</c> option (without the <c>hostfwd=</c> prefix).</summary>
    public static PortForward Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string where = $"hostfwd '{text}'";
        int dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            throw new NetworkConfigurationException($"{where}: expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport (missing '-')");
        }
        string hostPart = text[..dash];
        string guestPart = text[(dash + 1)..];

        var protocol = ForwardProtocol.Tcp;
        string[] hostFields = hostPart.Split(':');
        if (hostFields.Length == 3)
        {
            protocol = hostFields[0].ToLowerInvariant() switch
            {
                "tcp" or "" => ForwardProtocol.Tcp,
                "udp" => ForwardProtocol.Udp,
                _ => throw new NetworkConfigurationException($"{where}: protocol must be tcp or udp, not '{hostFields[0]}'"),
            };
            hostFields = hostFields[1..];
        }
        if (hostFields.Length != 2)
        {
            throw new NetworkConfigurationException($"{where}: the host side must be [tcp|udp]:[hostaddr]:hostport");
        }
        IPAddress hostAddress = ParseAddress(hostFields[0], IPAddress.Any, where, "host address");
        int hostPort = ParsePort(hostFields[1], where, "host port");

        int colon = guestPart.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || guestPart.IndexOf(':', colon + 1) >= 0)
        {
            throw new NetworkConfigurationException($"{where}: the guest side must be [guestaddr]:guestport");
        }
        IPAddress guestAddress = ParseAddress(guestPart[..colon], UserNetworkAddresses.Guest, where, "guest address");
        int guestPort = ParsePort(guestPart[(colon + 1)..], where, "guest port");
        if (guestPort == 0)
        {
            throw new NetworkConfigurationException($"{where}: guest port must be 1..65535");
        }
        return new PortForward(protocol, hostAddress, hostPort, guestAddress, guestPort);
    }

    public override string ToString() =>
        $"{(Protocol == ForwardProtocol.Tcp ? "tcp" : "udp")}:{HostAddress}:{HostPort}-{GuestAddress}:{GuestPort}";

    private static IPAddress ParseAddress(string text, IPAddress empty, string where, string what)
    {
        if (text.Length == 0)
        {
            return empty;
        }
        if (!IPAddress.TryParse(text, out IPAddress? address) || address.AddressFamily != AddressFamily.InterNetwork
            || text.Count(c => c == '.') != 3)
        {
            throw new NetworkConfigurationException($"{where}: {what} '{text}' is not a dotted IPv4 address");
        }
        return address;
    }

    private static int ParsePort(string text, string where, string what)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            throw new NetworkConfigurationException($"{where}: {what} '{text}' is not a number 0..65535");
        }
        return port;
    }
}
