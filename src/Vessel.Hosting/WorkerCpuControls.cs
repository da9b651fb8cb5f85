using Vessel.Machine;

namespace Vessel.Hosting;

/// <summary>
/// Applies a VM's CPU weight and cap to its worker: its own cgroup where the host has one, else Vessel's
/// <see cref="CpuGovernor"/> in the hart loop. <c>VESSEL_CPU_GOVERNOR=builtin</c> skips cgroups (hosts where they
/// are delegated elsewhere, and tests of the fallback).
/// </summary>
public static class WorkerCpuControls
{
    public const string GovernorVariable = "VESSEL_CPU_GOVERNOR";

    /// <summary>Returns the cgroup to dispose when the worker ends (null when the governor is used instead).</summary>
    public static CpuControlGroup? Apply(VmDefinition definition, ref MachineConfiguration config, TextWriter log)
    {
        bool builtin = Environment.GetEnvironmentVariable(GovernorVariable) == "builtin";
        var group = builtin ? null : CpuControlGroup.TryCreate(definition.Name, definition.Cpus, definition.CpuWeight, definition.CpuCapPercent);
        string cap = definition.CpuCapPercent is { } c ? $"{c} % of a core per vCPU" : "no cap";
        if (group is not null)
        {
            log.WriteLine($"vessel worker {definition.Name}: CPU weight {definition.CpuWeight}, {cap}: {group.Kind} {group.Directory}");
            return group;
        }

        var governor = new CpuGovernor(definition.CpuWeight, definition.CpuCapPercent);
        if (governor.Caps || governor.Nice != 0)
        {
            config = config with { Throttle = governor };
        }

        log.WriteLine($"vessel worker {definition.Name}: CPU weight {definition.CpuWeight} (nice {governor.Nice}), {cap}: Vessel's own governor");
        return null;
    }
}
