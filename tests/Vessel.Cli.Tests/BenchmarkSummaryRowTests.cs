using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

public sealed class BenchmarkSummaryRowTests
{
    private static BenchmarkSample Sample(string group, string engine, int run, string metric, double value, bool higherIsBetter = true) =>
        new(group, engine, run, new BenchmarkMeasurement(metric, value, higherIsBetter ? "MB/s" : "s", higherIsBetter));

    [Fact]
    public void ThroughputRatioIsVesselOverQemuAndPercentOfNativeUsesMedians()
    {
        var rows = BenchmarkSummaryRow.Summarize(
        [
            Sample("g", "vessel", 1, "rate", 10), Sample("g", "vessel", 2, "rate", 30), Sample("g", "vessel", 3, "rate", 20),
            Sample("g", "qemu", 1, "rate", 40), Sample("g", "native", 1, "rate", 200),
        ]);
        var row = Assert.Single(rows);
        Assert.Equal(20, row.Vessel!.Median);
        Assert.Equal(0.5, row.SpeedRatio);
        Assert.Equal(10.0, row.VesselPercentOfNative!.Value, 9);
        Assert.Equal(20.0, row.QemuPercentOfNative!.Value, 9);
    }

    [Fact]
    public void TimeRatioIsQemuOverVesselSoAboveOneStillMeansVesselIsFaster()
    {
        var row = Assert.Single(BenchmarkSummaryRow.Summarize(
            [Sample("boot", "vessel", 1, "time", 2, higherIsBetter: false), Sample("boot", "qemu", 1, "time", 8, higherIsBetter: false)]));
        Assert.Equal(4.0, row.SpeedRatio);
        Assert.Null(row.Native);
        Assert.Null(row.VesselPercentOfNative);
    }

    [Fact]
    public void MissingEngineOrZeroMedianGivesNoRatio()
    {
        var rows = BenchmarkSummaryRow.Summarize([Sample("a", "vessel", 1, "m", 5), Sample("b", "vessel", 1, "m", 0), Sample("b", "qemu", 1, "m", 3)]);
        Assert.Equal(["a", "b"], rows.Select(r => r.Group));
        Assert.All(rows, r => Assert.Null(r.SpeedRatio));
        Assert.Null(rows[0].Qemu);
    }

    [Fact]
    public void RowsKeepFirstSeenOrderPerGroupAndMetric()
    {
        var rows = BenchmarkSummaryRow.Summarize(
        [
            Sample("raw", "vessel", 1, "seq-write", 1), Sample("raw", "vessel", 1, "seq-read", 2),
            Sample("qcow2", "vessel", 1, "seq-write", 3), Sample("raw", "qemu", 1, "seq-write", 4),
        ]);
        Assert.Equal(["raw/seq-write", "raw/seq-read", "qcow2/seq-write"], rows.Select(r => $"{r.Group}/{r.Metric}"));
        Assert.Equal(4, rows[0].Qemu!.Median);
    }

    [Theory]
    [InlineData(250.4, 100.0, 300.0, "250 (100–300)")]
    [InlineData(2.5, 1.25, 3.0, "2.50 (1.25–3.00)")]
    public void DescribeShowsMedianAndRangeWithDecimalsOnlyForSmallNumbers(double median, double min, double max, string expected)
    {
        Assert.Equal(expected, BenchmarkSummaryRow.Describe(new BenchmarkStatistics(median, min, max, 3)));
    }

    [Fact]
    public void DescribeShowsADashForWhatWasNotMeasured()
    {
        Assert.Equal("-", BenchmarkSummaryRow.Describe(null));
        Assert.Equal("-", BenchmarkSummaryRow.Describe(null, "F2"));
        Assert.Equal("0.25", BenchmarkSummaryRow.Describe(0.25, "F2"));
    }
}
