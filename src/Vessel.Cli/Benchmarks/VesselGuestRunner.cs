using System.Diagnostics;
using Vessel.Machine;

namespace Vessel.Cli.Benchmarks;

/// <summary>Boots a <see cref="GuestWorkload"/> on Vessel's own machine, in this process, until the guest powers off.</summary>
public static class VesselGuestRunner
{
    public static GuestRunResult Run(GuestWorkload workload, CancellationToken cancellationToken)
    {
        var config = new MachineConfiguration
        {
            CpuCount = workload.Cpus,
            CpuEngine = workload.Engine,
            MemorySize = workload.MemorySize,
            FirmwarePath = workload.Firmware,
            KernelPath = workload.Kernel,
            InitrdPath = workload.Initrd,
            CommandLine = workload.CommandLine,
            Disks = [.. workload.Disks.Select(d => new DiskConfiguration(d.Path, d.Format, ReadOnly: false))],
            Nics = workload.Lan is { } lan ? [NetworkInterfaceConfiguration.Parse($"switch:{lan.SwitchName},mac={lan.Mac}", out _)!]
                : workload.UserNetwork ? [NetworkInterfaceConfiguration.Parse("user", out _)!] : [],
        };
        var wall = Stopwatch.StartNew();
        var console = new ConsoleMarkerWatch(workload.Marker, wall);
        using var machine = new VirtMachine(config, b => console.Append((char)b));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(workload.Timeout);
        var reason = machine.Run(timeout.Token);
        wall.Stop();
        string text = console.Text;
        var result = reason switch
        {
            MachineExitReason.PowerOff => new GuestRunResult(text, wall.Elapsed, true, null),
            MachineExitReason.Failed => new GuestRunResult(text, wall.Elapsed, false, machine.Failure),
            _ => new GuestRunResult(text, wall.Elapsed, false, timeout.IsCancellationRequested ? "timed out" : $"ended with {reason}"),
        };
        return result with { MarkerSeen = console.MarkerSeen };
    }
}
