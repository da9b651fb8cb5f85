using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

public sealed class BenchmarkStatisticsTests
{
    [Fact]
    public void OddCountTakesTheMiddleValueAndTheRange()
    {
        var s = BenchmarkStatistics.Of([5.0, 1.0, 3.0])!;
        Assert.Equal(3.0, s.Median);
        Assert.Equal(1.0, s.Min);
        Assert.Equal(5.0, s.Max);
        Assert.Equal(3, s.Count);
    }

    [Fact]
    public void EvenCountAveragesTheTwoMiddleValues()
    {
        Assert.Equal(2.5, BenchmarkStatistics.Of([4.0, 1.0, 2.0, 3.0])!.Median);
    }

    [Fact]
    public void NoValuesGiveNoStatistics()
    {
        Assert.Null(BenchmarkStatistics.Of([]));
    }
}
