using System.Diagnostics;
using System.Globalization;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// Boots the same <see cref="GuestWorkload"/> on <c>qemu-system-riscv64 -M virt</c> (TCG), the reference Vessel
/// is measured against: same firmware, kernel, initrd, command line, memory, harts and virtio-blk disks (QEMU's
/// default cache=writeback, which is what Vessel does: host page cache, fsync on flush).
/// </summary>
public static class QemuGuestRunner
{
    public const string DefaultBinary = "qemu-system-riscv64";

    /// <summary>The QEMU binary on PATH, or null when QEMU is not installed.</summary>
    public static string? Find(string name = DefaultBinary)
    {
        if (name.Contains('/'))
        {
            return File.Exists(name) ? name : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }

    public static IReadOnlyList<string> Arguments(GuestWorkload workload)
    {
        var args = new List<string>
        {
            "-M", "virt", "-cpu", "rv64", "-smp", workload.Cpus.ToString(CultureInfo.InvariantCulture),
            "-m", $"{workload.MemorySize >> 20}M", "-nographic", "-no-reboot",
            "-bios", workload.Firmware, "-kernel", workload.Kernel, "-initrd", workload.Initrd,
            "-append", workload.CommandLine,
        };
        // The devices Vessel gives the same workload: virtio-rng always, a NIC only when asked for.
        args.AddRange(["-device", "virtio-rng-device"]);
        if (workload.Lan is { } lan)
        {
            args.AddRange(["-netdev", $"dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port={lan.LocalPort},remote.type=inet,remote.host=127.0.0.1,remote.port={lan.PeerPort}",
                "-device", $"virtio-net-device,netdev=net0,mac={lan.Mac}"]);
        }
        else
        {
            args.AddRange(workload.UserNetwork ? ["-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0"] : ["-nic", "none"]);
        }

        for (int i = 0; i < workload.Disks.Count; i++)
        {
            var (path, format) = workload.Disks[i];
            args.AddRange(["-drive", $"file={path},format={format},if=none,id=disk{i}", "-device", $"virtio-blk-device,drive=disk{i}"]);
        }

        return args;
    }

    public static GuestRunResult Run(string qemu, GuestWorkload workload, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(qemu)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in Arguments(workload))
        {
            psi.ArgumentList.Add(a);
        }

        var wall = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {qemu}");
        var output = new ConsoleMarkerWatch(workload.Marker, wall);
        var pumps = new[] { Pump(process.StandardOutput, output), Pump(process.StandardError, output) };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(workload.Timeout);
        try
        {
            process.WaitForExitAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        wall.Stop();
        Task.WaitAll(pumps, TimeSpan.FromSeconds(5));
        bool ok = !timeout.IsCancellationRequested && process.ExitCode == 0;
        return new GuestRunResult(output.Text, wall.Elapsed, ok, ok ? null : timeout.IsCancellationRequested ? "timed out" : $"qemu exited with {process.ExitCode}")
        {
            MarkerSeen = output.MarkerSeen,
        };
    }

    private static async Task Pump(StreamReader reader, ConsoleMarkerWatch output)
    {
        char[] buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            output.Append(buffer.AsSpan(0, n));
        }
    }
}
