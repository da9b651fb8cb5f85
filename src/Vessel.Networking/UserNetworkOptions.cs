using System.Net;

namespace Vessel.Networking;

/// <summary>Settings of a <see cref="UserNetwork"/>; <see cref="Parse"/> reads QEMU's <c>user[,hostfwd=...]...</c> text.</summary>
public sealed record UserNetworkOptions
{
    public IReadOnlyList<PortForward> HostForwards { get; init; } = [];

    /// <summary>Where queries to 10.0.2.3:53 go; null means the first nameserver of /etc/resolv.conf (else 127.0.0.53).</summary>
    public IPEndPoint? DnsServer { get; init; }

    /// <summary>Upper bound on guest TCP connections (outbound and forwarded) so a guest cannot exhaust host sockets.</summary>
    public int MaxTcpConnections { get; init; } = 1024;

    /// <summary>Upper bound on connections still in their handshake; SYNs beyond it are dropped (SYN-flood guard).</summary>
    public int MaxHalfOpenTcpConnections { get; init; } = 128;

    public int MaxUdpFlows { get; init; } = 1024;

    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A connection whose handshake has not completed by then is discarded.</summary>
    public TimeSpan TcpHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Parses <c>user</c> followed by comma-separated options. Supported: <c>hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport</c>
    /// (repeatable), <c>dns=ADDR[:PORT]</c> (the host resolver to forward to). The leading <c>user</c> may be omitted.
    /// </summary>
    public static UserNetworkOptions Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',');
        int start = parts[0].Trim() == "user" ? 1 : 0;
        var forwards = new List<PortForward>();
        IPEndPoint? dns = null;
        for (int i = start; i < parts.Length; i++)
        {
            string part = parts[i].Trim();
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new NetworkConfigurationException(
                    $"user network option '{part}' must be NAME=VALUE (supported: hostfwd=, dns=) in '{text}'");
            }
            string name = part[..equals];
            string value = part[(equals + 1)..];
            switch (name)
            {
                case "hostfwd":
                    forwards.Add(PortForward.Parse(value));
                    break;
                case "dns":
                    if (!IPEndPoint.TryParse(value, out IPEndPoint? endpoint)
                        || endpoint.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                    {
                        throw new NetworkConfigurationException($"user network option dns='{value}' is not an IPv4 address[:port]");
                    }
                    dns = endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint;
                    break;
                default:
                    throw new NetworkConfigurationException(
                        $"unknown user network option '{name}' in '{text}' (supported: hostfwd=, dns=)");
            }
        }
        var duplicate = forwards.GroupBy(f => (f.Protocol, f.HostAddress, f.HostPort)).FirstOrDefault(g => g.Count() > 1 && g.Key.HostPort != 0);
        if (duplicate != null)
        {
            throw new NetworkConfigurationException($"hostfwd: host port {duplicate.Key.HostPort} is forwarded twice");
        }
        return new UserNetworkOptions { HostForwards = forwards, DnsServer = dns };
    }

    /// <summary>The first IPv4 <c>nameserver</c> of a resolv.conf text, or null.</summary>
    internal static IPAddress? ReadNameserver(string resolvConf)
    {
        foreach (string raw in resolvConf.Split('\n'))
        {
            string[] fields = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && fields[0] == "nameserver" && IPAddress.TryParse(fields[1], out IPAddress? address)
                && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                return address;
            }
        }
        return null;
    }
}
