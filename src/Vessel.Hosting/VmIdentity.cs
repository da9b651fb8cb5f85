using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Vessel.Hosting;

/// <summary>
/// What a guest calls itself: a hostname derived from the VM's name and a per-VM machine id, both handed to the
/// guest kit's /init on the kernel command line (vessel.hostname=, vessel.machine_id=).
/// </summary>
public static partial class VmIdentity
{
    /// <summary>The hostname a guest gets when none is given (also <c>vessel run</c>'s).</summary>
    public const string DefaultHostname = "vessel";

    // machine-id(5): 32 lower-case hexadecimal characters, not all zero.
    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex MachineIdPattern();

    /// <summary>
    /// A new random 128-bit machine id as machine-id(5) writes it (32 lower-case hex digits); the all-zero id it forbids
    /// has a chance of 2^-128, so it is not worth a retry loop.
    /// </summary>
    public static string NewMachineId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>True for 32 lower-case hex digits that are not all zero (machine-id(5) forbids the all-zero id).</summary>
    public static bool IsMachineId(string? id) => id is not null && MachineIdPattern().IsMatch(id) && id.Any(c => c != '0');

    /// <summary>
    /// The hostname for a VM name. VM names allow '.' and '_', which an RFC 1123 §2.1 label (letters, digits and
    /// '-', not starting or ending with '-') does not, so both become '-' and trailing '-' go; a VM name always
    /// starts with a letter or digit and has at most 63 characters, so the label is never empty or too long.
    /// </summary>
    public static string HostnameFor(string vmName)
    {
        var label = new string([.. vmName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        if (label.Length > 63)
        {
            label = label[..63].TrimEnd('-');
        }

        return label.Length == 0 ? DefaultHostname : label;
    }
}
