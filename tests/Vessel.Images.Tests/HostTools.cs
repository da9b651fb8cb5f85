using System.Diagnostics;

namespace Vessel.Images.Tests;

/// <summary>Finds and runs host programs the tests compare against (cpio, sh, xz, qemu).</summary>
internal static class HostTools
{
    public static bool Exists(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    /// <summary>Runs a program, feeding <paramref name="input"/> to its stdin; returns exit code and stdout+stderr.</summary>
    public static (int ExitCode, string Output) Run(string tool, IEnumerable<string> arguments, string? workingDirectory = null, byte[]? input = null, int timeoutMs = 60_000)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.BaseStream.Write(input);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        return (process.HasExited ? process.ExitCode : -1, stdout.Result + stderr.Result);
    }
}
