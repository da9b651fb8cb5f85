using System.Diagnostics;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// One-shot runs of the real <c>vessel</c> CLI with stdout and stderr kept apart (<see cref="VesselProcess"/> merges
/// them, for consoles), and the clean-up of workers a failed service test leaves behind.
/// </summary>
internal static class VesselCli
{
    /// <summary>Runs <c>vessel ARGUMENTS</c> with stdin closed; gives up after 8 minutes.</summary>
    public static async Task<(int Status, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vessel.dll"));
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Kills the workers of <paramref name="vms"/> under <paramref name="state"/> (a worker outlives a failed test's
    /// supervisor) and removes the state directory.
    /// </summary>
    public static void KillWorkersAndDelete(string state, params string[] vms)
    {
        foreach (string vm in vms)
        {
            string pidFile = Path.Combine(state, "vms", vm, "worker.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), out int pid))
            {
                try
                {
                    Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                }
            }
        }

        if (Directory.Exists(state))
        {
            Directory.Delete(state, recursive: true);
        }
    }
}
