using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;
using Vessel.Hosting;
using Vessel.Machine;

namespace Vessel.Cli.Commands;

/// <summary><c>vessel vm create NAME</c>: defines a VM (validated by the supervisor).</summary>
public sealed class VmCreateCommand : ApiCommand<VmCreateCommand.Settings>
{
    public sealed class Settings : VmNameSettings
    {
        [CommandOption("--cpus <N>")]
        [Description("Number of vCPUs.")]
        public int? Cpus { get; init; }

        [CommandOption("-m|--memory <SIZE>")]
        [Description("Guest RAM, e.g. 256M or 1G (default 512M).")]
        public string? Memory { get; init; }

        [CommandOption("--kernel <FILE>")]
        [Description("Linux Image. Default: the guest kit's.")]
        public string? Kernel { get; init; }

        [CommandOption("--initrd <FILE>")]
        [Description("Initial ramdisk (with --kernel).")]
        public string? Initrd { get; init; }

        [CommandOption("--append <CMDLINE>")]
        [Description("Kernel command line (default console=ttyS0).")]
        public string? Append { get; init; }

        [CommandOption("--disk <SPEC>")]
        [Description("A virtio-blk disk (repeatable): FILE[[,format=FMT]][[,readonly=on]][[,bps=RATE]][[,iops=N]]; bps=/iops= (and bps_burst=/iops_burst=) limit its I/O.")]
        public string[] Disks { get; init; } = [];

        [CommandOption("--net <BACKEND>")]
        [Description("A virtio-net NIC (repeatable), as on 'vessel run': user[[,hostfwd=tcp:127.0.0.1:8080-:80]] (NAT, the default), switch:NAME[[,dhcp=on]], tap:IFNAME, or none; per-NIC mac=, pcap=FILE, bps=, pps=.")]
        public string[] Nets { get; init; } = [];

        [CommandOption("--restart <POLICY>")]
        [Description("no, on-failure or always.")]
        public string? Restart { get; init; }

        [CommandOption("--allow-overcommit")]
        [Description("Start even when the host's unallocated cores or memory are fewer than this VM's.")]
        public bool AllowOvercommit { get; init; }

        [CommandOption("--cpu-weight <WEIGHT>")]
        [Description("CPU share against other VMs, 1-10000 (default 100; 200 gets twice the CPU of 100 when both are busy).")]
        public int? CpuWeight { get; init; }

        [CommandOption("--cpu-cap <PERCENT>")]
        [Description("Most CPU per vCPU, in percent of one host core (1-100).")]
        public int? CpuCap { get; init; }
    }

    /// <summary>The worker does not run in the caller's directory, so a relative capture file is made absolute here.</summary>
    private static string AbsolutePcap(string nic) =>
        string.Join(',', nic.Split(',').Select(p => p.StartsWith("pcap=", StringComparison.Ordinal) && p.Length > 5 ? "pcap=" + Path.GetFullPath(p[5..]) : p));

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        var disks = new List<VmDisk>();
        foreach (string text in settings.Disks)
        {
            var disk = DiskConfiguration.Parse(text, out string? error) ?? throw new VesselApiException(error!);
            disks.Add(new VmDisk(Path.GetFullPath(disk.Path), disk.Format, disk.ReadOnly, disk.RateLimit));
        }

        var request = new VmCreateRequest
        {
            Name = settings.Name,
            Cpus = settings.Cpus,
            Memory = settings.Memory,
            Kernel = settings.Kernel is null ? null : Path.GetFullPath(settings.Kernel),
            Initrd = settings.Initrd is null ? null : Path.GetFullPath(settings.Initrd),
            CommandLine = settings.Append,
            Disks = disks,
            Nics = settings.Nets.Length == 0 ? null : [.. settings.Nets.Select(AbsolutePcap)],
            RestartPolicy = settings.Restart,
            AllowOvercommit = settings.AllowOvercommit ? true : null,
            CpuWeight = settings.CpuWeight,
            CpuCapPercent = settings.CpuCap,
        };
        PrintVm(await client.GetJsonAsync(HttpMethod.Post, "api/vms", request), settings.Json);
        return 0;
    }
}
