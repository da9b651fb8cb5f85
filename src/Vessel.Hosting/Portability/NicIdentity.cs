using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Vessel.Hosting.Portability;

/// <summary>
/// Gives a cloned or imported VM's NICs addresses of their own. NIC specs use <c>vessel run --net</c>'s syntax
/// (<c>BACKEND[,option=value...]</c>); any <c>mac=</c> option is replaced by a new random address in QEMU's locally
/// administered 52:54:00 prefix, so two copies of a VM on one network never share a MAC.
/// </summary>
public static partial class NicIdentity
{
    [GeneratedRegex(",mac=[^,]*", RegexOptions.IgnoreCase)]
    private static partial Regex MacOption();

    public static string RandomMac()
    {
        Span<byte> tail = stackalloc byte[3];
        RandomNumberGenerator.Fill(tail);
        return $"52:54:00:{tail[0]:x2}:{tail[1]:x2}:{tail[2]:x2}";
    }

    public static string WithNewMac(string nic) => MacOption().Replace(nic, string.Empty) + ",mac=" + RandomMac();
}
