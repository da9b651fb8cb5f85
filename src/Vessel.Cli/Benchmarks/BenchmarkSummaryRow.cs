using System.Globalization;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// One line of a suite's report: a metric's statistics on Vessel, on QEMU and natively on the host (each null when
/// that engine was not measured), and the ratios derived from the medians.
/// </summary>
public sealed record BenchmarkSummaryRow(
    string Group,
    string Metric,
    string Unit,
    bool HigherIsBetter,
    BenchmarkStatistics? Vessel,
    BenchmarkStatistics? Qemu,
    BenchmarkStatistics? Native)
{
    /// <summary>How many times faster Vessel is than QEMU (&gt; 1: Vessel faster), whichever way the metric reads.</summary>
    public double? SpeedRatio => Speed(Vessel, Qemu);

    /// <summary>Vessel's speed as a percentage of the same work run natively on the host.</summary>
    public double? VesselPercentOfNative => Speed(Vessel, Native) * 100;

    public double? QemuPercentOfNative => Speed(Qemu, Native) * 100;

    /// <summary>Groups samples by (group, metric) in first-seen order and summarises each engine's values.</summary>
    public static IReadOnlyList<BenchmarkSummaryRow> Summarize(IEnumerable<BenchmarkSample> samples) =>
        [.. samples.GroupBy(s => (s.Group, s.Measurement.Metric)).Select(group =>
        {
            var first = group.First().Measurement;
            BenchmarkStatistics? Of(string engine) =>
                BenchmarkStatistics.Of([.. group.Where(s => s.Engine == engine).Select(s => s.Measurement.Value)]);
            return new BenchmarkSummaryRow(group.Key.Group, group.Key.Metric, first.Unit, first.HigherIsBetter, Of("vessel"), Of("qemu"), Of("native"));
        })];

    /// <summary>"median (min–max)", with decimals only for small numbers; "-" when not measured.</summary>
    public static string Describe(BenchmarkStatistics? s) =>
        s is null ? "-" : s.Median >= 100
            ? string.Create(CultureInfo.InvariantCulture, $"{s.Median:F0} ({s.Min:F0}–{s.Max:F0})")
            : string.Create(CultureInfo.InvariantCulture, $"{s.Median:F2} ({s.Min:F2}–{s.Max:F2})");

    public static string Describe(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private double? Speed(BenchmarkStatistics? engine, BenchmarkStatistics? reference) =>
        engine is { Median: > 0 } && reference is { Median: > 0 }
            ? HigherIsBetter ? engine.Median / reference.Median : reference.Median / engine.Median
            : null;
}
