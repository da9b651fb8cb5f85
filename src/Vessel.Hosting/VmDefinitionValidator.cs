using System.Text.RegularExpressions;
using Vessel.Machine;
using Vessel.Machine.Abstractions;

namespace Vessel.Hosting;

/// <summary>Turns a <see cref="VmCreateRequest"/> into a <see cref="VmDefinition"/>, collecting every problem with it.</summary>
public sealed partial class VmDefinitionValidator(HostCapacity host)
{
    private const ulong MinimumMemory = 16UL << 20;
    private static readonly string[] Formats = ["raw", "qcow2", "vpc", "vmdk", "vdi"]; // every format the storage layer opens (ImageFormatNames)

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();

    public VmDefinition Validate(VmCreateRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string message) =>
            errors[field] = errors.TryGetValue(field, out string[]? old) ? [.. old, message] : [message];

        string name = request.Name ?? string.Empty;
        if (!NamePattern().IsMatch(name))
        {
            Add("name", $"'{name}' is not a valid VM name: use 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        int cpus = request.Cpus ?? 1;
        if (cpus is < 1 or > MachineConfiguration.MaxCpus)
        {
            Add("cpus", $"cpus must be between 1 and {MachineConfiguration.MaxCpus}, not {cpus}.");
        }

        ulong memory = 512UL << 20;
        if (request.Memory is { } memoryText && !DataSize.TryParse(memoryText, out memory))
        {
            Add("memory", $"'{memoryText}' is not a size (use e.g. 256M or 2G).");
        }
        else if (memory < MinimumMemory)
        {
            Add("memory", $"memory {DataSize.Format(memory)} is too small: a guest needs at least {DataSize.Format(MinimumMemory)}.");
        }
        else if (memory > host.MemoryBytes)
        {
            Add("memory", $"memory {DataSize.Format(memory)} is larger than the host's {DataSize.Format(host.MemoryBytes)}.");
        }

        string? kernel = CheckFile("kernel", request.Kernel, Add);
        string? initrd = CheckFile("initrd", request.Initrd, Add);
        string? firmware = CheckFile("firmware", request.Firmware, Add);
        if (initrd is not null && kernel is null)
        {
            Add("initrd", "an initrd needs a kernel: name one, or leave both out for the default guest kit.");
        }

        var disks = new List<VmDisk>();
        foreach (var (disk, i) in (request.Disks ?? []).Select((d, i) => (d, i)))
        {
            string field = $"disks[{i}]";
            if (string.IsNullOrEmpty(disk.Path))
            {
                Add(field, "a disk needs a path.");
                continue;
            }

            string path = Path.GetFullPath(disk.Path);
            if (!File.Exists(path))
            {
                Add(field, $"unknown disk: {path} does not exist.");
            }

            if (disk.Format is { } format && !Formats.Contains(format))
            {
                Add(field, $"unknown disk format '{format}' (expected {string.Join(", ", Formats)}).");
            }

            if (IoRateLimitOption.Check(disk.RateLimit, "iops") is { } limitProblem)
            {
                Add(field, limitProblem + ".");
            }

            disks.Add(disk with { Path = path });
        }

        var nics = ValidateNics(request.Nics, Add);
        if (!RestartPolicyNames.TryParse(request.RestartPolicy, out var policy))
        {
            Add("restartPolicy", $"unknown restart policy '{request.RestartPolicy}' (expected no, on-failure or always).");
        }

        VmCpuControls.Validate(request.CpuWeight, request.CpuCapPercent, Add);
        if (errors.Count > 0)
        {
            throw new VmValidationException(errors);
        }

        return new VmDefinition
        {
            Name = name,
            Cpus = cpus,
            MemoryBytes = memory,
            Kernel = kernel,
            Initrd = initrd,
            Firmware = firmware,
            CommandLine = request.CommandLine ?? "console=ttyS0",
            Disks = disks,
            Nics = nics,
            RestartPolicy = policy,
            AllowOvercommit = request.AllowOvercommit ?? false,
            CpuWeight = request.CpuWeight ?? VmCpuControls.DefaultWeight,
            CpuCapPercent = request.CpuCapPercent,
            MachineId = VmIdentity.NewMachineId(),
            CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>
    /// NICs use <c>vessel run --net</c>'s syntax. Like QEMU and <c>vessel run</c>, a VM that names none gets one
    /// user-mode NAT NIC; <c>none</c> alone means no NIC. Every NIC is pinned to a MAC here (a random one in
    /// 52:54:00 unless given), so the guest sees the same address on every start and after a revert.
    /// </summary>
    private static List<string> ValidateNics(IReadOnlyList<string>? requested, Action<string, string> add)
    {
        IReadOnlyList<string> specs = requested is null || requested.Count == 0 ? ["user"] : requested;
        if (specs.Contains("none"))
        {
            if (specs.Count > 1)
            {
                add("nics", "'none' means no NIC and cannot be combined with other NICs.");
            }

            return [];
        }

        var nics = new List<string>();
        foreach (var (spec, i) in specs.Select((s, i) => (s, i)))
        {
            var nic = NetworkInterfaceConfiguration.Parse(spec ?? string.Empty, out string? error);
            if (nic is null)
            {
                add($"nics[{i}]", (error ?? "bad NIC") + ".");
                continue;
            }

            if (nic.PcapPath is { } pcap && !Path.IsPathFullyQualified(pcap))
            {
                add($"nics[{i}]", $"--net {spec}: pcap={pcap} must be an absolute path (the worker does not run in your directory).");
            }

            nics.Add(spec!.Contains("mac=", StringComparison.OrdinalIgnoreCase) ? spec : $"{spec},mac={nic.MacText}");
        }

        return nics;
    }

    private static string? CheckFile(string field, string? path, Action<string, string> add)
    {
        if (path is null)
        {
            return null;
        }

        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            add(field, $"{field} {full} does not exist.");
        }

        return full;
    }
}
