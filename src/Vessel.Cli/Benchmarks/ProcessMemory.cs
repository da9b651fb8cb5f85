using System.Globalization;

namespace Vessel.Cli.Benchmarks;

/// <summary>Reads Linux's memory accounting: a process's resident set and the host's available memory (proc(5)).</summary>
public static class ProcessMemory
{
    /// <summary>VmRSS from the text of /proc/PID/status, in bytes.</summary>
    public static long ResidentBytes(string status) => Kilobytes(status, "VmRSS:") * 1024;

    /// <summary>MemAvailable from /proc/meminfo: what can be allocated without swapping, in bytes.</summary>
    public static long HostAvailableBytes() => Kilobytes(File.ReadAllText("/proc/meminfo"), "MemAvailable:") * 1024;

    /// <summary>The "NAME:   1234 kB" field of a proc file, in kB.</summary>
    public static long Kilobytes(string text, string field)
    {
        foreach (string line in text.Split('\n'))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal))
            {
                continue;
            }

            string[] parts = line[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1] == "kB" && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
            {
                return kb;
            }

            throw new FormatException($"unexpected {field} line in a proc file: '{line}'");
        }

        throw new FormatException($"no {field} line in the proc file");
    }
}
