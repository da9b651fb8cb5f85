using System.Globalization;

namespace Vessel.Hosting;

/// <summary>
/// Caps a worker's host memory (DESIGN.md §6): a memory cgroup whose limit is the guest's RAM plus
/// <see cref="WorkerOverheadBytes"/>, so a runaway worker (a leak, a guest that makes the worker allocate) is
/// stopped by the kernel before it takes the host's memory. cgroup v1 <c>memory.limit_in_bytes</c>
/// (kernel Documentation/admin-guide/cgroup-v1/memory.rst §2.5) or cgroup v2 <c>memory.max</c>
/// (Documentation/admin-guide/cgroup-v2.rst, "Memory Interface Files"). Both charge page cache too, but clean page
/// cache (disk images, a snapshot's RAM file mapped copy-on-write) is reclaimed at the limit rather than counted
/// against it, so only memory the worker really holds can hit it. <see cref="TryCreate"/> returns null where the
/// host has no writable memory controller; the worker then runs without a limit and says so in its log.
/// </summary>
public sealed class MemoryControlGroup : IDisposable
{
    /// <summary>
    /// What a worker holds besides guest RAM: the .NET runtime and heap, the JIT's translation cache, device
    /// buffers, snapshot writing. Measured at about 100 MiB for an idle 128 MiB guest under the JIT; the limit
    /// leaves several times that, since it is a guard against runaway growth, not a tight budget.
    /// </summary>
    public const ulong WorkerOverheadBytes = 512UL << 20;

    private readonly string _directory;
    private readonly string _parentProcs;

    private MemoryControlGroup(string directory, string parentProcs, string kind, ulong limitBytes)
    {
        _directory = directory;
        _parentProcs = parentProcs;
        Kind = kind;
        LimitBytes = limitBytes;
    }

    /// <summary>"cgroup v1" or "cgroup v2", for the worker's log.</summary>
    public string Kind { get; }

    public string Directory => _directory;

    public ulong LimitBytes { get; }

    /// <summary>The limit for a guest of <paramref name="guestMemoryBytes"/>.</summary>
    public static ulong LimitFor(ulong guestMemoryBytes) => guestMemoryBytes + WorkerOverheadBytes;

    /// <param name="root">Where cgroups are mounted (tests point elsewhere).</param>
    /// <param name="selfCgroup">This process's cgroup membership, proc(5) /proc/self/cgroup (tests point elsewhere).</param>
    public static MemoryControlGroup? TryCreate(string vmName, ulong guestMemoryBytes, string root = "/sys/fs/cgroup", string selfCgroup = "/proc/self/cgroup")
    {
        ulong limit = LimitFor(guestMemoryBytes);
        string limitText = limit.ToString(CultureInfo.InvariantCulture);
        try
        {
            string v1 = Path.Combine(root, "memory");
            if (File.Exists(Path.Combine(v1, "memory.limit_in_bytes")))
            {
                // v1 hierarchies are separate: nest under the memory group this process is in, so a limit the host
                // already puts on Vessel (a container, a systemd slice) still covers the worker.
                string current = Path.Combine(v1, CurrentGroup(selfCgroup, "memory"));
                string group = Path.Combine(current, "vessel", WorkerControlGroups.GroupName(vmName));
                System.IO.Directory.CreateDirectory(group);
                WorkerControlGroups.RemoveGroupsOfDeadWorkers(Path.GetDirectoryName(group)!);
                File.WriteAllText(Path.Combine(group, "memory.limit_in_bytes"), limitText);
                return Join(group, Path.Combine(current, "cgroup.procs"), "cgroup v1", limit);
            }

            // v2: the same vessel/NAME-PID group as the CPU controls, with the memory controller enabled too.
            if (WorkerControlGroups.CreateV2Group(root, "memory", vmName) is { } v2Group)
            {
                File.WriteAllText(Path.Combine(v2Group, "memory.max"), limitText);
                return Join(v2Group, Path.Combine(root, "cgroup.procs"), "cgroup v2", limit);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>
    /// The path of this process's group for a v1 controller, relative to that controller's mount: proc(5) lists
    /// "ID:CONTROLLERS:PATH" lines, CONTROLLERS comma-separated.
    /// </summary>
    private static string CurrentGroup(string selfCgroup, string controller)
    {
        foreach (string line in File.ReadLines(selfCgroup))
        {
            string[] fields = line.Split(':', 3);
            if (fields.Length == 3 && fields[1].Split(',').Contains(controller))
            {
                return fields[2].TrimStart('/');
            }
        }

        return "";
    }



    private static MemoryControlGroup Join(string group, string parentProcs, string kind, ulong limit)
    {
        // The worker joins before it maps guest RAM, and guest RAM is committed lazily, so what it touches from now
        // on is charged here.
        File.WriteAllText(Path.Combine(group, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return new MemoryControlGroup(group, parentProcs, kind, limit);
    }

    /// <summary>Goes back to the parent group and removes this one, so a stopped VM leaves nothing behind.</summary>
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
