using System.Globalization;
using System.Text.RegularExpressions;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// Parses bench/guest/cpu-kernels.c's output: one "RESULT kernel rate unit checksum" line per kernel, in the
/// order <see cref="Kernels"/> lists them.
/// </summary>
public static partial class CpuKernelResults
{
    public static readonly IReadOnlyList<string> Kernels = ["integer", "memcpy", "branchy", "float"];

    /// <summary>Every kernel's rate and checksum, or null when any is missing (the program failed or was cut off).</summary>
    public static IReadOnlyList<(BenchmarkMeasurement Rate, string Checksum)>? Parse(string output)
    {
        var found = new Dictionary<string, (BenchmarkMeasurement, string)>();
        foreach (Match m in ResultLine().Matches(output))
        {
            string kernel = m.Groups[1].Value;
            if (Kernels.Contains(kernel) && double.TryParse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
            {
                found[kernel] = (new BenchmarkMeasurement(kernel, rate, m.Groups[3].Value, HigherIsBetter: true), m.Groups[4].Value);
            }
        }

        return found.Count == Kernels.Count ? [.. Kernels.Select(k => found[k])] : null;
    }

    [GeneratedRegex(@"RESULT (\w+) ([0-9.]+) (\S+) ([0-9a-f]{16})")]
    private static partial Regex ResultLine();
}
