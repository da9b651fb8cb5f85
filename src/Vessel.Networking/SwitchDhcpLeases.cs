using System.Globalization;
using System.Text;

namespace Vessel.Networking;

/// <summary>
/// The switch DHCP server's address assignments, one address per client MAC, kept in <c>NAME.leases</c> so that
/// whichever process becomes the hub next continues with them. Bound leases are written after every change
/// (temp file + rename, so a reader never sees half a file); offers are held in memory only.
/// </summary>
internal sealed class SwitchDhcpLeases
{
    public const uint LeaseSeconds = 86400;

    /// <summary>RFC 2131 §4.3.1: an offered address is reserved for a while so the client can request it.</summary>
    public const uint OfferHoldSeconds = 60;

    /// <summary>Bounds memory and the lease file whatever the subnet size (a /8 is millions of addresses).</summary>
    public const int MaxLeases = 4096;

    private const int MaxFileBytes = 1 << 20;
    private readonly SwitchDhcpSettings settings;
    private readonly string path;
    private readonly Func<long> clock;
    private readonly Dictionary<MacAddress, Lease> byMac = [];
    private readonly Dictionary<uint, MacAddress> byAddress = [];

    public SwitchDhcpLeases(SwitchDhcpSettings settings, string path, Func<long>? unixSecondsClock = null)
    {
        this.settings = settings;
        this.path = path;
        clock = unixSecondsClock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Load();
    }

    /// <summary>Lease-file writes that failed (e.g. the directory vanished); the leases stay valid in memory.</summary>
    public long PersistFailures { get; private set; }

    public int Count => byMac.Count;

    /// <summary>The address held for <paramref name="mac"/>, bound or offered, expired or not; 0 if none.</summary>
    public uint AddressOf(MacAddress mac) => byMac.TryGetValue(mac, out Lease lease) ? lease.Address : 0;

    /// <summary>True if another client's unexpired lease or offer holds <paramref name="address"/>.</summary>
    public bool IsHeldByOther(uint address, MacAddress mac) =>
        byAddress.TryGetValue(address, out MacAddress holder) && holder != mac && byMac[holder].Expires > clock();

    /// <summary>
    /// Picks the address to offer (RFC 2131 §4.3.1): the client's previous one, else the one it asks for if free,
    /// else the lowest free pool address, else the longest-expired lease of another client. 0 when the pool is full.
    /// </summary>
    public uint Offer(MacAddress mac, uint requested)
    {
        long now = clock();
        if (byMac.TryGetValue(mac, out Lease existing))
        {
            byMac[mac] = existing with { Expires = Math.Max(existing.Expires, now + OfferHoldSeconds) };
            return existing.Address;
        }
        uint address = IsFree(requested, now) ? requested : FindFree(now);
        if (address == 0)
        {
            return 0;
        }
        Hold(mac, address, now + OfferHoldSeconds, bound: false);
        return address;
    }

    /// <summary>
    /// Binds <paramref name="address"/> to <paramref name="mac"/> for <see cref="LeaseSeconds"/> (DHCPACK) if the client
    /// holds it, or if <paramref name="allowNew"/> and it is free. Returns false when the address is not the client's to have.
    /// </summary>
    public bool Bind(MacAddress mac, uint address, bool allowNew)
    {
        long now = clock();
        bool holds = byMac.TryGetValue(mac, out Lease lease) && lease.Address == address;
        if (!holds && !(allowNew && IsFree(address, now)))
        {
            return false;
        }
        Hold(mac, address, now + LeaseSeconds, bound: true);
        Save();
        return true;
    }

    /// <summary>DHCPRELEASE (RFC 2131 §4.3.4): the lease ends now; the address stays remembered for the client's return.</summary>
    public void Release(MacAddress mac, uint address)
    {
        if (byMac.TryGetValue(mac, out Lease lease) && lease.Address == address)
        {
            byMac[mac] = lease with { Expires = clock() };
            Save();
        }
    }

    /// <summary>The client picked another server's offer: drop our unbound reservation.</summary>
    public void Withdraw(MacAddress mac)
    {
        if (byMac.TryGetValue(mac, out Lease lease) && !lease.Bound)
        {
            byMac.Remove(mac);
            byAddress.Remove(lease.Address);
        }
    }

    private void Hold(MacAddress mac, uint address, long expires, bool bound)
    {
        if (byAddress.TryGetValue(address, out MacAddress previous) && previous != mac)
        {
            byMac.Remove(previous); // an expired lease of another client, reclaimed
        }
        if (byMac.TryGetValue(mac, out Lease old) && old.Address != address)
        {
            byAddress.Remove(old.Address);
        }
        byMac[mac] = new Lease(address, expires, bound || (byMac.TryGetValue(mac, out Lease o) && o.Bound && o.Address == address));
        byAddress[address] = mac;
    }

    private bool IsFree(uint address, long now) =>
        settings.IsPoolAddress(address)
        && (!byAddress.TryGetValue(address, out MacAddress holder) || byMac[holder].Expires <= now)
        && (byMac.Count < MaxLeases || byAddress.ContainsKey(address));

    private uint FindFree(long now)
    {
        if (byMac.Count < MaxLeases)
        {
            // At most MaxLeases addresses are taken, so this scan ends within MaxLeases + 3 steps.
            for (uint a = settings.NetworkValue + 1; a < settings.BroadcastValue; a++)
            {
                if (settings.IsPoolAddress(a) && !byAddress.ContainsKey(a))
                {
                    return a;
                }
            }
        }
        uint oldest = 0;
        long oldestExpiry = long.MaxValue;
        foreach (Lease lease in byMac.Values)
        {
            if (lease.Expires <= now && lease.Expires < oldestExpiry)
            {
                oldest = lease.Address;
                oldestExpiry = lease.Expires;
            }
        }
        return oldest;
    }

    private void Load()
    {
        string[] lines;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes)
            {
                return; // none yet, or not a file this server wrote: start empty rather than read without bound
            }
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string line in lines)
        {
            // "MAC ADDRESS EXPIRES" per line; lines that do not parse, lie outside the subnet or repeat are skipped.
            string[] fields = line.Split(' ');
            if (byMac.Count >= MaxLeases || fields.Length != 3
                || !TryParseMac(fields[0], out MacAddress mac)
                || !System.Net.IPAddress.TryParse(fields[1], out System.Net.IPAddress? ip)
                || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out long expires))
            {
                continue;
            }
            uint address = UserNetworkAddresses.ToValue(ip);
            if (settings.IsPoolAddress(address) && !byMac.ContainsKey(mac) && !byAddress.ContainsKey(address))
            {
                byMac[mac] = new Lease(address, expires, Bound: true);
                byAddress[address] = mac;
            }
        }
    }

    private void Save()
    {
        var text = new StringBuilder();
        foreach (var (mac, lease) in byMac)
        {
            if (lease.Bound)
            {
                text.Append(CultureInfo.InvariantCulture, $"{mac} {UserNetworkAddresses.FromValue(lease.Address)} {lease.Expires}\n");
            }
        }
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllText(temporary, text.ToString());
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            PersistFailures++;
        }
    }

    private static bool TryParseMac(string text, out MacAddress mac)
    {
        mac = default;
        string[] parts = text.Split(':');
        ulong value = 0;
        if (parts.Length != 6)
        {
            return false;
        }
        foreach (string part in parts)
        {
            if (part.Length != 2 || !byte.TryParse(part, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                return false;
            }
            value = (value << 8) | b;
        }
        mac = new MacAddress(value);
        return !mac.IsMulticast;
    }

    private readonly record struct Lease(uint Address, long Expires, bool Bound);
}
