using Vessel.Machine.Abstractions;

namespace Vessel.Hosting;

/// <summary>
/// Admission control (issue 6, resource allocation): a VM starts only if its vCPUs and memory fit in what running VMs
/// have not been given, unless overcommit is allowed for the host (<c>vessel serve --allow-overcommit</c>) or the VM.
/// </summary>
public static class CapacityCheck
{
    /// <summary>Null when <paramref name="vm"/> may start; otherwise a message saying what does not fit and how to allow it.</summary>
    public static string? Refusal(HostInfo host, VmDefinition vm, bool hostAllowsOvercommit)
    {
        if (hostAllowsOvercommit || vm.AllowOvercommit)
        {
            return null;
        }

        var problems = new List<string>();
        int freeCpus = Math.Max(0, host.Cores - host.AllocatedCpus);
        if (vm.Cpus > freeCpus)
        {
            problems.Add($"{vm.Cpus} vCPU but only {freeCpus} of the host's {host.Cores} cores are unallocated");
        }

        ulong freeMemory = host.MemoryBytes - Math.Min(host.AllocatedMemoryBytes, host.MemoryBytes);
        if (vm.MemoryBytes > freeMemory)
        {
            problems.Add($"{DataSize.Format(vm.MemoryBytes)} of memory but only {DataSize.Format(freeMemory)} of the host's {DataSize.Format(host.MemoryBytes)} is unallocated");
        }

        return problems.Count == 0
            ? null
            : $"VM '{vm.Name}' does not fit: it needs {string.Join(" and ", problems)} ({host.RunningVms} VMs running). " +
              "Stop a VM, or allow overcommit (create the VM with --allow-overcommit, or run 'vessel serve --allow-overcommit').";
    }
}
