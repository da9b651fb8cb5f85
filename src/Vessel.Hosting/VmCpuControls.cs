namespace Vessel.Hosting;

/// <summary>The limits of a VM's CPU controls: weight (relative share) and cap (percent of a core per vCPU).</summary>
public static class VmCpuControls
{
    public const int DefaultWeight = 100;
    public const int MinWeight = 1;
    public const int MaxWeight = 10000; // cgroup v2 cpu.weight's range

    public static void Validate(int? weight, int? capPercent, Action<string, string> add)
    {
        if (weight is { } w && w is < MinWeight or > MaxWeight)
        {
            add("cpuWeight", $"cpu weight must be between {MinWeight} and {MaxWeight} (default {DefaultWeight}), not {w}.");
        }

        if (capPercent is { } c && c is < 1 or > 100)
        {
            add("cpuCapPercent", $"cpu cap must be between 1 and 100 percent of a core per vCPU, not {c}.");
        }
    }
}
