using System.Globalization;

namespace Vessel.Hosting;

/// <summary>What the worker's CPU and memory cgroups (<see cref="CpuControlGroup"/>, <see cref="MemoryControlGroup"/>) share: naming and clean-up.</summary>
internal static class WorkerControlGroups
{
    /// <summary>NAME-PID: VM names are unique per state directory only, and several supervisors may share a host.</summary>
    public static string GroupName(string vmName) => $"{vmName}-{Environment.ProcessId}";

    /// <summary>
    /// Removes the groups of workers that died without leaving theirs (SIGKILL skips Dispose): NAME-PID groups whose
    /// PID is gone. rmdir(2) on a cgroup succeeds only once it has no processes, so a live group is never touched.
    /// </summary>
    public static void RemoveGroupsOfDeadWorkers(string parent)
    {
        foreach (string group in System.IO.Directory.EnumerateDirectories(parent))
        {
            int dash = group.LastIndexOf('-');
            if (dash > 0 && int.TryParse(group.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !System.IO.Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    System.IO.Directory.Delete(group);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }
}
