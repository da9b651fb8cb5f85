using System.Text;

namespace Vessel.Images;

/// <summary>
/// The applet names of a busybox binary. Busybox keeps them in one sorted, NUL-separated string
/// (<c>applet_names</c> in the generated include/applet_tables.h) that starts with "[" and "[[", so the list can be
/// read from the executable without running it (it is a riscv64 binary).
/// </summary>
public static class BusyboxApplets
{
    /// <summary>Applets the guest kit relies on; they are linked even if the scan finds no table.</summary>
    public static IReadOnlyList<string> Required { get; } =
    [
        "sh", "mount", "mkdir", "ls", "cat", "echo", "uname", "poweroff", "reboot", "halt", "insmod", "modprobe", "ip", "udhcpc",
        "wget", "nc", "httpd", "date", "sleep", "dmesg", "ps", "free", "nproc", "md5sum", "sha256sum", "dd", "head", "tail", "grep",
        "sed", "awk", "vi", "mknod", "ln", "chmod", "sync", "uptime", "hwclock", "top", "kill", "setsid", "cttyhack", "getty",
        "stty", "tee", "wc", "sort", "seq", "find", "xargs", "tr", "cut", "env", "true", "false", "test", "[", "hostname", "cp",
        "mv", "rm", "umount",
    ];

    /// <summary>
    /// Every applet named in <paramref name="busybox"/>'s table, sorted; empty when no table is found. "busybox",
    /// "init" and "linuxrc" are left out: the initramfs has its own /init.
    /// </summary>
    public static IReadOnlyList<string> Scan(ReadOnlySpan<byte> busybox)
    {
        ReadOnlySpan<byte> start = "[\0[[\0"u8;
        int at = busybox.IndexOf(start);
        if (at < 0)
        {
            return [];
        }

        var names = new List<string>();
        ReadOnlySpan<byte> rest = busybox[at..];
        while (true)
        {
            int end = rest.IndexOf((byte)0);
            if (end <= 0)
            {
                break;
            }

            string name = Encoding.ASCII.GetString(rest[..end]);
            if ((names.Count > 0 && string.CompareOrdinal(name, names[^1]) <= 0) || !name.All(IsAppletChar))
            {
                break; // past the end of the sorted table
            }

            names.Add(name);
            rest = rest[(end + 1)..];
        }

        return names.Where(n => n is not ("busybox" or "init" or "linuxrc")).ToArray();
    }

    /// <summary>The links to create: every scanned applet plus <see cref="Required"/>, sorted.</summary>
    public static IReadOnlyList<string> ToLink(ReadOnlySpan<byte> busybox) =>
        Scan(busybox).Union(Required, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    private static bool IsAppletChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '[' or '_' or '-' or '.';
}
