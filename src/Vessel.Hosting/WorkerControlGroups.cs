using System.Globalization;

namespace Vessel.Hosting;

/// <summary>What the worker's CPU and memory cgroups (<see cref="CpuControlGroup"/>, <see cref="MemoryControlGroup"/>) share: naming and clean-up.</summary>
internal static class WorkerControlGroups
{
    /// <summary>NAME-PID: VM names are unique per state directory only, and several supervisors may share a host.</summary>
    public static string GroupName(string vmName) => $"{vmName}-{Environment.ProcessId}";

    /// <summary>
    /// The worker's cgroup v2 group <c>vessel/NAME-PID</c> with <paramref name="controller"/> enabled for it, or null
    /// where the v2 hierarchy at <paramref name="root"/> has no such controller. v2 is one hierarchy, so the CPU and
    /// memory controls share the group; it hangs from the root because a v2 group with processes in it cannot
    /// enable controllers below itself (cgroup-v2.rst, "No Internal Process Constraint").
    /// </summary>
    public static string? CreateV2Group(string root, string controller, string vmName)
    {
        string controllers = Path.Combine(root, "cgroup.controllers");
        if (!File.Exists(controllers) || !File.ReadAllText(controllers).Split(' ', '\n').Contains(controller))
        {
            return null;
        }

        string parent = Path.Combine(root, "vessel");
        System.IO.Directory.CreateDirectory(parent);
        File.WriteAllText(Path.Combine(root, "cgroup.subtree_control"), "+" + controller);
        File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+" + controller);
        string group = Path.Combine(parent, GroupName(vmName));
        System.IO.Directory.CreateDirectory(group);
        RemoveGroupsOfDeadWorkers(parent);
        return group;
    }

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
