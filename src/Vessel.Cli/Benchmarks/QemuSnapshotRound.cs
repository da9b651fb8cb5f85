using System.Diagnostics;
using System.Text;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// The same snapshot round on <c>qemu-system-riscv64</c>: the serial console on stdin/stdout and the human monitor
/// on a Unix socket, where <c>savevm NAME</c> takes a live snapshot (RAM and devices into the qcow2 disk's internal
/// snapshot) and <c>loadvm NAME</c> restores it; each is timed until the monitor prompt returns.
/// </summary>
public static class QemuSnapshotRound
{
    public static SnapshotTimings Run(string qemu, SnapshotRoundSetup setup, CancellationToken cancellationToken)
    {
        string monitorPath = Path.Combine(setup.WorkDirectory, "monitor.sock");
        var workload = new GuestWorkload
        {
            Firmware = setup.Kit.Firmware,
            Kernel = setup.Kit.Kernel,
            Initrd = setup.Kit.Initramfs,
            MemorySize = setup.MemorySize,
            CommandLine = SnapshotRoundSetup.CommandLine,
            Disks = [(setup.Disk, "qcow2")],
        };
        var psi = new ProcessStartInfo(qemu)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in QemuGuestRunner.Arguments(workload))
        {
            psi.ArgumentList.Add(a);
        }

        // An explicit monitor also takes it off the serial line, so stdin/stdout carry only the guest's console.
        psi.ArgumentList.Add("-monitor");
        psi.ArgumentList.Add($"unix:{monitorPath},server=on,wait=off");

        var console = new ConsoleMarkerWatch(SnapshotRoundSetup.ReadyMarker, Stopwatch.StartNew());
        using var process = Process.Start(psi) ?? throw new SnapshotBenchmarkException($"cannot start {qemu}");
        var pumps = new[] { Pump(process.StandardOutput, console), Pump(process.StandardError, console) };
        void Type(string line)
        {
            process.StandardInput.Write(line);
            process.StandardInput.Flush();
        }

        try
        {
            using var monitor = QemuMonitor.Connect(monitorPath, setup.StepTimeout, cancellationToken);
            WaitForReady(console, process, setup.BootTimeout, cancellationToken);
            Ask(1, console, Type, setup, cancellationToken);
            var snapshot = TimeCommand(monitor, $"savevm {SnapshotRoundSetup.SnapshotName}", console, setup, cancellationToken);
            Ask(2, console, Type, setup, cancellationToken);
            var restore = TimeCommand(monitor, $"loadvm {SnapshotRoundSetup.SnapshotName}", console, setup, cancellationToken);
            var answered = new ConsoleQuestion("SNAP", 3).Ask(console, Type, setup.StepTimeout, cancellationToken);
            return new SnapshotTimings(snapshot, restore, answered);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            throw SnapshotBenchmarkException.WithConsole($"QEMU: {e.Message}", console.Text);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(10_000);
            Task.WaitAll(pumps, TimeSpan.FromSeconds(5));
        }
    }

    private static TimeSpan TimeCommand(QemuMonitor monitor, string command, ConsoleMarkerWatch console, SnapshotRoundSetup setup, CancellationToken cancellationToken)
    {
        var (elapsed, reply) = monitor.Execute(command, setup.StepTimeout, cancellationToken);
        return QemuMonitorReply.Error(reply) is { } error
            ? throw SnapshotBenchmarkException.WithConsole($"QEMU's '{command}' failed: {error}", console.Text)
            : elapsed;
    }

    private static void WaitForReady(ConsoleMarkerWatch console, Process process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (console.MarkerSeen is null)
        {
            if (process.HasExited || clock.Elapsed >= timeout)
            {
                throw SnapshotBenchmarkException.WithConsole(
                    process.HasExited ? $"QEMU exited with status {process.ExitCode} before the guest was ready" : $"the QEMU guest was not ready within {timeout.TotalSeconds:F0} s", console.Text);
            }

            cancellationToken.WaitHandle.WaitOne(50);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static TimeSpan Ask(int number, ConsoleMarkerWatch console, Action<string> type, SnapshotRoundSetup setup, CancellationToken cancellationToken) =>
        new ConsoleQuestion("SNAP", number).Ask(console, type, setup.StepTimeout, cancellationToken)
        ?? throw SnapshotBenchmarkException.WithConsole($"the QEMU guest's shell did not answer (question {number})", console.Text);

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
