using System.Globalization;

namespace Vessel.Hosting;

/// <summary>
/// Puts a worker in its own cgroup with the VM's CPU weight and cap (DESIGN.md §6): cgroup v1 <c>cpu.shares</c> and
/// <c>cpu.cfs_quota_us</c>/<c>cpu.cfs_period_us</c> (kernel Documentation/scheduler/sched-bwc.rst), or cgroup v2
/// <c>cpu.weight</c> and <c>cpu.max</c> (Documentation/admin-guide/cgroup-v2.rst). <see cref="TryCreate"/> returns
/// null where the host has no writable cpu controller; the worker then uses <see cref="CpuGovernor"/>.
/// </summary>
public sealed class CpuControlGroup : IDisposable
{
    private const int PeriodMicroseconds = 100_000;
    private readonly string _directory;
    private readonly string _parentProcs;

    private CpuControlGroup(string directory, string parentProcs, string kind)
    {
        _directory = directory;
        _parentProcs = parentProcs;
        Kind = kind;
    }

    /// <summary>"cgroup v1" or "cgroup v2", for the worker's log.</summary>
    public string Kind { get; }

    public string Directory => _directory;

    /// <param name="root">Where cgroups are mounted (tests may point elsewhere).</param>
    public static CpuControlGroup? TryCreate(string vmName, int cpus, int weight, int? capPercent, string root = "/sys/fs/cgroup")
    {
        try
        {
            string v1 = Path.Combine(root, "cpu");
            if (File.Exists(Path.Combine(v1, "cpu.shares")))
            {
                string group = Path.Combine(v1, "vessel", WorkerControlGroups.GroupName(vmName));
                System.IO.Directory.CreateDirectory(group);
                WorkerControlGroups.RemoveGroupsOfDeadWorkers(Path.GetDirectoryName(group)!);

                // cpu.shares: 1024 is the kernel's default share, so weight 100 (Vessel's default) maps to it.
                Write(group, "cpu.shares", Math.Max(2, weight * 1024 / 100));
                Write(group, "cpu.cfs_period_us", PeriodMicroseconds);
                Write(group, "cpu.cfs_quota_us", capPercent is { } cap ? (long)cap * cpus * PeriodMicroseconds / 100 : -1);
                return Join(group, Path.Combine(v1, "cgroup.procs"), "cgroup v1");
            }

            if (WorkerControlGroups.CreateV2Group(root, "cpu", vmName) is { } v2Group)
            {
                Write(v2Group, "cpu.weight", weight); // 1-10000, default 100: the same scale as Vessel's weight
                File.WriteAllText(
                    Path.Combine(v2Group, "cpu.max"),
                    capPercent is { } cap ? $"{(long)cap * cpus * PeriodMicroseconds / 100} {PeriodMicroseconds}" : $"max {PeriodMicroseconds}");
                return Join(v2Group, Path.Combine(root, "cgroup.procs"), "cgroup v2");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }



    private static CpuControlGroup Join(string group, string parentProcs, string kind)
    {
        // cgroup.procs moves the whole process, every thread included, now and for threads started later.
        File.WriteAllText(Path.Combine(group, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return new CpuControlGroup(group, parentProcs, kind);
    }

    private static void Write(string group, string file, long value) =>
        File.WriteAllText(Path.Combine(group, file), value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Leaves the group (back to the root) and removes it, so a stopped VM leaves nothing behind.</summary>
    public void Dispose()
    {
        try
        {
            File.WriteAllText(_parentProcs, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            System.IO.Directory.Delete(_directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
