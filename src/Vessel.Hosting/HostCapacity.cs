using System.Globalization;

namespace Vessel.Hosting;

/// <summary>What the host offers VMs: logical cores and physical memory (Linux /proc/meminfo MemTotal).</summary>
public sealed record HostCapacity(int Cores, ulong MemoryBytes)
{
    public static HostCapacity Detect()
    {
        ulong memory = 0;
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    string kib = line["MemTotal:".Length..].Trim().Split(' ')[0];
                    memory = ulong.Parse(kib, CultureInfo.InvariantCulture) * 1024;
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            memory = (ulong)GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        }

        return new HostCapacity(Environment.ProcessorCount, memory);
    }
}
