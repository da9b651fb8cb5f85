namespace Vessel.Cli.Benchmarks;

/// <summary>Summary of repeated measurements: median and range (benchmarks report medians, never single runs).</summary>
public sealed record BenchmarkStatistics(double Median, double Min, double Max, int Count)
{
    public static BenchmarkStatistics? Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        return new BenchmarkStatistics(median, sorted[0], sorted[^1], n);
    }
}
