using System.Runtime.InteropServices;
using Vessel.Machine;

namespace Vessel.Hosting;

/// <summary>
/// Vessel's own CPU governor, for hosts without a writable cgroup cpu controller (DESIGN.md §6). The cap: after a
/// hart ran for t, its thread owes t × (1 − cap) / cap of sleep, paid once the debt reaches a few milliseconds, so each
/// vCPU uses about cap of a core. The weight: each hart thread gets the nice value whose CFS load weight (×1.25 per
/// step, kernel sched_prio_to_weight) is closest to weight/100 of the default's.
/// </summary>
public sealed partial class CpuGovernor : IHartThrottle
{
    private const int PrioProcess = 0;
    private static readonly TimeSpan MinimumSleep = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaximumDebt = TimeSpan.FromSeconds(1);

    [ThreadStatic]
    private static bool t_niceApplied;

    private readonly long[] _debtTicks = new long[MachineConfiguration.MaxCpus];
    private readonly double _sleepPerRun;

    public CpuGovernor(int weight, int? capPercent)
    {
        Nice = NiceForWeight(weight);
        _sleepPerRun = capPercent is { } cap and < 100 ? (100.0 - cap) / cap : 0;
    }

    /// <summary>The nice value hart threads get (0 for the default weight 100).</summary>
    public int Nice { get; }

    public bool Caps => _sleepPerRun > 0;

    public static int NiceForWeight(int weight) =>
        Math.Clamp((int)Math.Round(-Math.Log(Math.Max(1, weight) / 100.0) / Math.Log(1.25)), -20, 19);

    public void AfterSlice(int hart, TimeSpan ran)
    {
        if (!t_niceApplied)
        {
            t_niceApplied = true;
            if (Nice != 0)
            {
                // On Linux, PRIO_PROCESS with who = 0 sets the calling thread's nice value (setpriority(2), NOTES).
                _ = SetPriority(PrioProcess, 0, Nice);
            }
        }

        if (_sleepPerRun == 0 || (uint)hart >= (uint)_debtTicks.Length)
        {
            return;
        }

        long debt = Math.Min(_debtTicks[hart] + (long)(ran.Ticks * _sleepPerRun), MaximumDebt.Ticks);
        if (debt >= MinimumSleep.Ticks)
        {
            long before = System.Diagnostics.Stopwatch.GetTimestamp();
            Thread.Sleep(TimeSpan.FromTicks(debt));
            debt -= System.Diagnostics.Stopwatch.GetElapsedTime(before).Ticks; // oversleeping counts as paid
        }

        _debtTicks[hart] = debt;
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int prio);
}
