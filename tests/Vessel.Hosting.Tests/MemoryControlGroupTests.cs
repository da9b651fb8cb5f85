using System.Globalization;

namespace Vessel.Hosting.Tests;

/// <summary>The worker's memory cgroup, against fake cgroup v1 and v2 trees (the real one needs root and a writable hierarchy).</summary>
public sealed class MemoryControlGroupTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("vmcg-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static string Pid => Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void V1NestsUnderTheProcessesOwnMemoryGroupAndSetsGuestRamPlusOverhead()
    {
        string v1 = Path.Combine(root, "memory");
        string current = Path.Combine(v1, "process_api", "abc");
        Directory.CreateDirectory(current);
        File.WriteAllText(Path.Combine(v1, "memory.limit_in_bytes"), "9223372036854771712");
        string self = Path.Combine(root, "self-cgroup");
        File.WriteAllText(self, "9:name=systemd:/\n5:cpu,cpuacct:/\n4:memory:/process_api/abc\n0::/\n");

        using var group = MemoryControlGroup.TryCreate("web", 256UL << 20, root, self);

        Assert.NotNull(group);
        Assert.Equal("cgroup v1", group.Kind);
        Assert.Equal(Path.Combine(current, "vessel", $"web-{Pid}"), group.Directory);
        Assert.Equal(((256UL << 20) + MemoryControlGroup.WorkerOverheadBytes).ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(group.Directory, "memory.limit_in_bytes")));
        Assert.Equal(Pid, File.ReadAllText(Path.Combine(group.Directory, "cgroup.procs")));
        group.Dispose();
        Assert.Equal(Pid, File.ReadAllText(Path.Combine(current, "cgroup.procs"))); // back where it came from
    }

    [Fact]
    public void V2UsesTheSharedVesselGroupWithTheMemoryControllerEnabled()
    {
        File.WriteAllText(Path.Combine(root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
        File.WriteAllText(Path.Combine(root, "self-cgroup"), "0::/\n");

        using var group = MemoryControlGroup.TryCreate("db", 1UL << 30, root, Path.Combine(root, "self-cgroup"));

        Assert.NotNull(group);
        Assert.Equal("cgroup v2", group.Kind);
        Assert.Equal(Path.Combine(root, "vessel", $"db-{Pid}"), group.Directory);
        Assert.Equal("+memory", File.ReadAllText(Path.Combine(root, "cgroup.subtree_control")));
        Assert.Equal("+memory", File.ReadAllText(Path.Combine(root, "vessel", "cgroup.subtree_control")));
        Assert.Equal(MemoryControlGroup.LimitFor(1UL << 30).ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(group.Directory, "memory.max")));
    }

    [Fact]
    public void NoMemoryControllerMeansNoGroupAndNoError()
    {
        File.WriteAllText(Path.Combine(root, "cgroup.controllers"), "cpu pids\n");
        Assert.Null(MemoryControlGroup.TryCreate("web", 256UL << 20, root, Path.Combine(root, "missing")));
        Assert.Null(MemoryControlGroup.TryCreate("web", 256UL << 20, Path.Combine(root, "not-mounted"), Path.Combine(root, "missing")));
    }

    [Fact]
    public void GroupsOfKilledWorkersAreRemovedAndLiveOnesKept()
    {
        File.WriteAllText(Path.Combine(root, "cgroup.controllers"), "cpu memory\n");
        string parent = Path.Combine(root, "vessel");
        string dead = Path.Combine(parent, "old-2147483646"); // no such PID (pid_max is at most 2^22)
        string live = Path.Combine(parent, $"other-{Pid}");
        Directory.CreateDirectory(dead);
        Directory.CreateDirectory(live);

        using var group = MemoryControlGroup.TryCreate("web", 256UL << 20, root, Path.Combine(root, "missing"));

        Assert.NotNull(group);
        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(live));
    }
}
