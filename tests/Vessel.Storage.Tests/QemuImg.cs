using System.Diagnostics;

namespace Vessel.Storage.Tests;

/// <summary>Runs the host's qemu-img, the reference implementation Vessel's images are checked against.</summary>
internal static class QemuImg
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, "qemu-img"))
        .FirstOrDefault(File.Exists);

    /// <summary>Runs qemu-img with <paramref name="arguments"/>; returns its exit code and combined output.</summary>
    public static (int ExitCode, string Output) Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path ?? "qemu-img")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start qemu-img");
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException("qemu-img did not finish");
        }

        return (process.ExitCode, stdout.Result + stderr);
    }

    /// <summary>Runs qemu-img and fails the test unless it exits with 0.</summary>
    public static string Succeed(params string[] arguments)
    {
        var (code, output) = Run(arguments);
        Assert.True(code == 0, $"qemu-img {string.Join(' ', arguments)} exited with {code}:\n{output}");
        return output;
    }
}
