using System.Globalization;
using System.Security.Cryptography;
using Vessel.Devices.RateLimiting;
using Vessel.Networking;

namespace Vessel.Machine;

/// <summary>
/// One virtio-net NIC: its backend (<c>user[,hostfwd=…]</c>, <c>switch:NAME</c> or <c>tap:IFNAME</c>), MAC address
/// an optional pcap capture file and an optional rate limit (applied to each direction, receive and transmit, separately).
/// </summary>
public sealed record NetworkInterfaceConfiguration(string Backend, byte[] Mac, string? PcapPath = null, IoRateLimit? RateLimit = null)
{
    /// <summary>QEMU's OUI for guest NICs; the rest of a default address is random, so VMs on one switch differ.</summary>
    private static readonly byte[] LocalPrefix = [0x52, 0x54, 0x00];

    public string MacText => string.Join(':', Mac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    /// <summary>
    /// Parses <c>BACKEND[,mac=XX:XX:XX:XX:XX:XX][,pcap=FILE][,bps=RATE][,pps=N][,bps_burst=SIZE][,pps_burst=N]</c>, where
    /// BACKEND is <c>user[,hostfwd=…][,dns=…]</c>, <c>switch:NAME[,dhcp=on|A.B.C.D/N][,router=A.B.C.D]</c> or
    /// <c>tap:IFNAME</c>. Returns null and a message for bad input.
    /// </summary>
    public static NetworkInterfaceConfiguration? Parse(string text, out string? error)
    {
        error = null;
        byte[]? mac = null;
        string? pcap = null;
        IoRateLimit? limit = null;
        var backend = new List<string>();
        foreach (string part in text.Split(','))
        {
            int eq = part.IndexOf('=');
            if (eq > 0 && IoRateLimitOption.TryApply(part[..eq], part[(eq + 1)..], "pps", ref limit, out string? limitError))
            {
                if (limitError is not null)
                {
                    error = $"--net {text}: {limitError}";
                    return null;
                }
            }
            else if (part.StartsWith("mac=", StringComparison.Ordinal))
            {
                mac = ParseMac(part[4..], out error);
                if (mac is null)
                {
                    error = $"--net {text}: {error}";
                    return null;
                }
            }
            else if (part.StartsWith("pcap=", StringComparison.Ordinal) && part.Length > 5)
            {
                pcap = part[5..];
            }
            else
            {
                backend.Add(part);
            }
        }

        if (IoRateLimitOption.Check(limit, "pps") is { } problem)
        {
            error = $"--net {text}: {problem}";
            return null;
        }

        string spec = string.Join(',', backend);
        string kind = spec.Split(',', ':')[0];
        switch (kind)
        {
            case "user":
                try
                {
                    UserNetworkOptions.Parse(spec);
                }
                catch (NetworkConfigurationException e)
                {
                    error = $"--net {text}: {e.Message}";
                    return null;
                }

                break;
            case "switch" when spec.Length > kind.Length + 1 && spec[kind.Length] == ':':
                try
                {
                    SwitchPortOptions.Parse(spec);
                }
                catch (NetworkConfigurationException e)
                {
                    error = $"--net {text}: {e.Message}";
                    return null;
                }

                break;
            case "tap" when spec.Length > kind.Length + 1 && spec[kind.Length] == ':' && !spec.Contains(','):
                break;
            default:
                error = $"--net {text}: expected user[,hostfwd=...], switch:NAME or tap:IFNAME (plus optional mac=, pcap=, bps=, pps=)";
                return null;
        }

        return new NetworkInterfaceConfiguration(spec, mac ?? RandomMac(), pcap, limit);
    }

    /// <summary>Parses a unicast MAC address written as six hex pairs separated by ':' or '-'.</summary>
    public static byte[]? ParseMac(string text, out string? error)
    {
        error = null;
        string[] parts = text.Split(':', '-');
        var mac = new byte[6];
        if (parts.Length != 6 || parts.Any(p => p.Length != 2) ||
            !parts.Select((p, i) => byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out mac[i])).All(ok => ok))
        {
            error = $"'{text}' is not a MAC address like 52:54:00:12:34:56";
            return null;
        }

        if ((mac[0] & 1) != 0)
        {
            error = $"'{text}' is a multicast address; a NIC needs a unicast one (first byte even)";
            return null;
        }

        return mac;
    }

    public static byte[] RandomMac()
    {
        byte[] mac = new byte[6];
        LocalPrefix.CopyTo(mac, 0);
        RandomNumberGenerator.Fill(mac.AsSpan(3));
        return mac;
    }
}
