using System.Globalization;

namespace Vessel.Hosting;

/// <summary>
/// A process's real cost to the host, from Linux procfs: resident memory (<c>/proc/PID/status</c> VmRSS, proc(5)) and
/// CPU time of all its threads (<c>/proc/PID/stat</c> utime+stime in USER_HZ ticks; schedstat would be the main thread only).
/// </summary>
public readonly record struct ProcessUsage(ulong RssBytes, TimeSpan CpuTime)
{
    private const int UserHz = 100; // USER_HZ is 100 on every Linux architecture .NET runs on

    /// <summary>Reads the usage of <paramref name="pid"/>; null when the process is gone or unreadable.</summary>
    public static ProcessUsage? Read(int pid)
    {
        try
        {
            ulong rss = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ulong.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                    break;
                }
            }

            return new ProcessUsage(rss, ReadCpuTime(pid));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static TimeSpan ReadCpuTime(int pid)
    {
        // Fields after the ')' that ends the command name: state is field 3, utime 14 and stime 15 (proc(5)).
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        ulong ticks = ulong.Parse(fields[11], CultureInfo.InvariantCulture) + ulong.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds((double)ticks / UserHz);
    }
}
