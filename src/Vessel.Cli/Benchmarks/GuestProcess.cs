using System.Diagnostics;
using System.Globalization;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// A VM in its own host process — <c>vessel run</c> or <c>qemu-system-riscv64</c> — with its serial console on
/// stdin/stdout, for suites that measure what a running VM costs the host (resident memory, density). Disposing
/// kills the process tree and waits for it, so no VM outlives its benchmark.
/// </summary>
public sealed class GuestProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConsoleMarkerWatch _console;
    private readonly Task[] _pumps;
    private readonly Stopwatch _launched;
    private int _questions;
    private bool _disposed;

    private GuestProcess(Process process, ConsoleMarkerWatch console, Stopwatch launched)
    {
        _process = process;
        _console = console;
        _launched = launched;
        _pumps = [Pump(process.StandardOutput, console), Pump(process.StandardError, console)];
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Console => _console.Text;

    /// <summary>Starts the workload on "vessel" (this same vessel binary, <c>run</c>) or "qemu" (<paramref name="qemu"/>).</summary>
    public static GuestProcess Start(string engine, string? qemu, GuestWorkload workload)
    {
        IReadOnlyList<string> command = engine == "vessel"
            ? [.. StateDirectory.SelfCommand(), .. VesselArguments(workload)]
            : [qemu ?? throw new ArgumentNullException(nameof(qemu)), .. QemuGuestRunner.Arguments(workload)];
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {command[0]}");
        return new GuestProcess(process, new ConsoleMarkerWatch(workload.Marker, clock), clock);
    }

    /// <summary>The <c>vessel run</c> arguments for a workload without disks (none of the process-based suites needs one).</summary>
    public static IReadOnlyList<string> VesselArguments(GuestWorkload workload) =>
    [
        "run", "--cpus", workload.Cpus.ToString(CultureInfo.InvariantCulture), "--memory", $"{workload.MemorySize >> 20}M",
        "--bios", workload.Firmware, "--kernel", workload.Kernel, "--initrd", workload.Initrd, "--append", workload.CommandLine,
        "--net", workload.Lan is { } lan ? $"switch:{lan.SwitchName},mac={lan.Mac}" : workload.UserNetwork ? "user" : "none", "--no-reboot",
    ];

    /// <summary>Waits for the guest to power off (exit status 0); kills it after <paramref name="timeout"/>.</summary>
    public GuestRunResult WaitForExit(TimeSpan timeout, CancellationToken cancellationToken)
    {
        while (!_process.WaitForExit(200))
        {
            if (_launched.Elapsed >= timeout || cancellationToken.IsCancellationRequested)
            {
                var wall = _launched.Elapsed;
                Dispose();
                return new GuestRunResult(Console, wall, false, cancellationToken.IsCancellationRequested ? "cancelled" : "timed out") { MarkerSeen = _console.MarkerSeen };
            }
        }

        var elapsed = _launched.Elapsed;
        Task.WaitAll(_pumps, TimeSpan.FromSeconds(5));
        int status = _process.ExitCode;
        return new GuestRunResult(Console, elapsed, status == 0, status == 0 ? null : $"exited with status {status}") { MarkerSeen = _console.MarkerSeen };
    }

    /// <summary>Waits until the console shows <paramref name="text"/>; false on timeout or if the VM has ended.</summary>
    public bool WaitFor(string text, TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitFor(text, 0, timeout, cancellationToken);

    /// <summary>
    /// Whether the guest's shell answers: types an <c>echo</c> whose output (a computed number, so the echoed command
    /// line cannot match) must appear within <paramref name="timeout"/>; retyped every few seconds, since keys sent
    /// while the shell is still starting may be lost.
    /// </summary>
    public bool Answers(TimeSpan timeout, CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _questions);
        string answer = $"ALIVE-{n}-{n * 7}";
        var deadline = Stopwatch.StartNew();
        int from = _console.Length;
        while (deadline.Elapsed < timeout)
        {
            try
            {
                _process.StandardInput.Write($"echo ALIVE-{n}-$(({n}*7))\n");
                _process.StandardInput.Flush();
            }
            catch (IOException)
            {
                return false;
            }

            var wait = TimeSpan.FromSeconds(5) < timeout - deadline.Elapsed ? TimeSpan.FromSeconds(5) : timeout - deadline.Elapsed;
            if (WaitFor(answer, from, wait, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The process's resident set (VmRSS in /proc/PID/status), in bytes.</summary>
    public long ResidentBytes() => ProcessMemory.ResidentBytes(File.ReadAllText($"/proc/{_process.Id}/status"));

    public void Dispose()
    {
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        Task.WaitAll(_pumps, TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    private bool WaitFor(string text, int from, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!_console.Contains(text, from))
        {
            if (clock.Elapsed >= timeout || _process.HasExited)
            {
                return _console.Contains(text, from);
            }

            cancellationToken.WaitHandle.WaitOne(100);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return true;
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
