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
                    var peerWorkload = benchmarkCase.CreatePeer?.Invoke();
                    GuestRunResult result;
                    GuestRunResult? peerResult = null;
                    if (peerWorkload is null)
                    {
                        result = RunOn(engine, qemu, workload, cancellationToken);
                    }
                    else
                    {
                        // A pair runs as two processes on either engine, as two VMs would be deployed.
                        using var main = GuestProcess.Start(engine, qemu, workload);
                        using var peer = GuestProcess.Start(engine, qemu, peerWorkload);
                        result = main.WaitForExit(workload.Timeout, cancellationToken);
                        peerResult = peer.WaitForExit(peerWorkload.Timeout, cancellationToken);
                    }

                    if (peerResult is { Completed: false })
                    {
                        string peerTail = peerResult.Console.Length <= 2000 ? peerResult.Console : peerResult.Console[^2000..];
                        log.WriteLine($"run {run}/{runs} {benchmarkCase.Group} {engine}: the peer VM failed ({peerResult.Error}); console tail:\n{peerTail}");
                        result = result with { Completed = false, Error = $"peer VM: {peerResult.Error}" };
                    }

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

    private static GuestRunResult RunOn(string engine, string? qemu, GuestWorkload workload, CancellationToken cancellationToken) =>
        engine == "vessel" ? VesselGuestRunner.Run(workload, cancellationToken) : QemuGuestRunner.Run(qemu!, workload, cancellationToken);

    /// <summary>
    /// Prints the summary table (and writes JSON when asked). Ratio = Vessel ÷ QEMU for throughput, QEMU ÷ Vessel for
    /// times; when "native" samples exist (the same work run directly on the host) each engine is also shown as a
    /// percentage of native speed.
    /// </summary>
    public static void Report(IReadOnlyList<BenchmarkSample> samples, string footnote, string? jsonPath)
    {
        var rows = BenchmarkSummaryRow.Summarize(samples);
        bool native = rows.Any(r => r.Native is not null);
        var table = new Table().AddColumns("case", "metric", "Vessel (min–max)", "QEMU (min–max)", "speed ratio");
        if (native)
        {
            table.AddColumns("native (min–max)", "Vessel % native", "QEMU % native");
        }

        foreach (var row in rows)
        {
            var cells = new List<string>
            {
                row.Group, $"{row.Metric} ({row.Unit})", BenchmarkSummaryRow.Describe(row.Vessel), BenchmarkSummaryRow.Describe(row.Qemu),
                BenchmarkSummaryRow.Describe(row.SpeedRatio, "F2"),
            };
            if (native)
            {
                cells.AddRange([BenchmarkSummaryRow.Describe(row.Native), BenchmarkSummaryRow.Describe(row.VesselPercentOfNative, "F1"),
                    BenchmarkSummaryRow.Describe(row.QemuPercentOfNative, "F1")]);
            }

            table.AddRow([.. cells.Select(Markup.Escape)]);
        }

        AnsiConsole.Write(table);
        Console.WriteLine(footnote);
        Console.WriteLine($"Medians; speed ratio > 1 means Vessel is faster. Host: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}.");
        if (jsonPath is not null)
        {
            var summary = rows.Select(r => new
            {
                group = r.Group,
                metric = r.Metric,
                unit = r.Unit,
                vessel = r.Vessel,
                qemu = r.Qemu,
                native = r.Native,
                speedRatio = r.SpeedRatio,
                vesselPercentOfNative = r.VesselPercentOfNative,
                qemuPercentOfNative = r.QemuPercentOfNative,
            });
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(new { samples, summary }, new JsonSerializerOptions { WriteIndented = true }));
        }
    }
}
