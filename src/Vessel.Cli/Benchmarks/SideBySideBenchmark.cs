using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// Runs benchmark cases alternately on Vessel and on QEMU (the order flips every run, so drift in machine load
/// hits both), then prints each metric's medians, ranges and the ratio — the numbers in one run, on one machine.
/// </summary>
public static class SideBySideBenchmark
{
    /// <summary>Runs every case <paramref name="runs"/> times per engine; returns null (after logging why) if a run fails.</summary>
    public static List<BenchmarkSample>? Run(IReadOnlyList<BenchmarkCase> cases, int runs, string? qemu, TextWriter log, CancellationToken cancellationToken)
    {
        var samples = new List<BenchmarkSample>();
        string[] engines = qemu is null ? ["vessel"] : ["vessel", "qemu"];
        for (int run = 1; run <= runs; run++)
        {
            foreach (var benchmarkCase in cases)
            {
                foreach (string engine in run % 2 == 1 ? engines : engines.Reverse())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var workload = benchmarkCase.CreateWorkload();
                    var result = engine == "vessel"
                        ? VesselGuestRunner.Run(workload, cancellationToken)
                        : QemuGuestRunner.Run(qemu!, workload, cancellationToken);
                    var measured = result.Completed ? benchmarkCase.Measure(result) : null;
                    log.WriteLine($"run {run}/{runs} {benchmarkCase.Group,-12} {engine,-6} {result.Wall.TotalSeconds,6:F1} s  " +
                        (measured is null ? "FAILED" : string.Join("  ", measured.Select(m => $"{m.Metric} {m.Value:F1} {m.Unit}"))));
                    if (measured is null)
                    {
                        string tail = result.Console.Length <= 2000 ? result.Console : result.Console[^2000..];
                        log.WriteLine($"{engine} run failed ({result.Error ?? "measurements missing from the console"}); console tail:\n{tail}");
                        return null;
                    }

                    samples.AddRange(measured.Select(m => new BenchmarkSample(benchmarkCase.Group, engine, run, m)));
                }
            }
        }

        return samples;
    }

    /// <summary>Prints the summary table (and writes JSON when asked). Ratio = Vessel ÷ QEMU for throughput, QEMU ÷ Vessel for times.</summary>
    public static void Report(IReadOnlyList<BenchmarkSample> samples, string footnote, string? jsonPath)
    {
        var table = new Table().AddColumns("case", "metric", "Vessel (min–max)", "QEMU (min–max)", "speed ratio");
        var summary = new List<object>();
        foreach (var group in samples.GroupBy(s => (s.Group, s.Measurement.Metric)))
        {
            var first = group.First().Measurement;
            var vessel = BenchmarkStatistics.Of([.. group.Where(s => s.Engine == "vessel").Select(s => s.Measurement.Value)]);
            var qemu = BenchmarkStatistics.Of([.. group.Where(s => s.Engine == "qemu").Select(s => s.Measurement.Value)]);
            double? ratio = vessel is { Median: > 0 } && qemu is { Median: > 0 }
                ? first.HigherIsBetter ? vessel.Median / qemu.Median : qemu.Median / vessel.Median
                : null;
            table.AddRow(group.Key.Group, $"{group.Key.Metric} ({first.Unit})", Describe(vessel), Describe(qemu),
                ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) : "-");
            summary.Add(new { group = group.Key.Group, metric = group.Key.Metric, unit = first.Unit, vessel, qemu, speedRatio = ratio });
        }

        AnsiConsole.Write(table);
        Console.WriteLine(footnote);
        Console.WriteLine($"Medians; speed ratio > 1 means Vessel is faster. Host: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}.");
        if (jsonPath is not null)
        {
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(new { samples, summary }, new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    private static string Describe(BenchmarkStatistics? s) =>
        s is null ? "-" : s.Median >= 100
            ? string.Create(CultureInfo.InvariantCulture, $"{s.Median:F0} ({s.Min:F0}–{s.Max:F0})")
            : string.Create(CultureInfo.InvariantCulture, $"{s.Median:F2} ({s.Min:F2}–{s.Max:F2})");
}
