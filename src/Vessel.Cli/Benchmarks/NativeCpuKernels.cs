using System.Diagnostics;
using System.Reflection;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// bench/guest/cpu-kernels.c compiled for the host with its C compiler and the guest build's flags, so the guest
/// rates can be read as a percentage of what this machine does without any virtualisation.
/// </summary>
public sealed class NativeCpuKernels : IDisposable
{
    public const string Flags = "-O2 -ffp-contract=off -fno-math-errno";

    private readonly string _directory;

    private NativeCpuKernels(string directory, string executable)
    {
        _directory = directory;
        Executable = executable;
    }

    public string Executable { get; }

    /// <summary>Compiles the embedded source with cc (or gcc); null, with the reason, when there is no working compiler.</summary>
    public static NativeCpuKernels? TryBuild(out string? problem)
    {
        string directory = Directory.CreateTempSubdirectory("vessel-cpu-native-").FullName;
        string source = Path.Combine(directory, "cpu-kernels.c");
        string executable = Path.Combine(directory, "cpu-kernels");
        using (var resource = Assembly.GetExecutingAssembly().GetManifestResourceStream("cpu-kernels.c")
            ?? throw new InvalidOperationException("The cpu-kernels.c resource is missing from this build."))
        using (var file = File.Create(source))
        {
            resource.CopyTo(file);
        }

        string? compiler = new[] { "cc", "gcc" }.Select(c => QemuGuestRunner.Find(c)).FirstOrDefault(c => c is not null);
        if (compiler is null)
        {
            Directory.Delete(directory, recursive: true);
            problem = "no C compiler (cc or gcc) on PATH for the native baseline";
            return null;
        }

        var (status, output) = RunProcess(compiler, [.. Flags.Split(' '), source, "-o", executable], TimeSpan.FromMinutes(2));
        if (status != 0)
        {
            Directory.Delete(directory, recursive: true);
            problem = $"{compiler} failed on cpu-kernels.c: {output.Trim()}";
            return null;
        }

        problem = null;
        return new NativeCpuKernels(directory, executable);
    }

    /// <summary>Runs the kernels natively at <paramref name="scale"/> and returns their output.</summary>
    public string Run(int scale)
    {
        var (status, output) = RunProcess(Executable, [scale.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(10));
        return status == 0 ? output : throw new InvalidOperationException($"native cpu-kernels exited with {status}: {output}");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int Status, string Output) RunProcess(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"timed out after {timeout.TotalSeconds:F0} s");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
