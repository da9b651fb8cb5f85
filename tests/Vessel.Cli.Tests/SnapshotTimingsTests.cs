using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

/// <summary>A restored guest that never answers still reports its snapshot and restore times, and no answer time.</summary>
public sealed class SnapshotTimingsTests
{
    [Fact]
    public void AllThreeTimesWhenTheConsoleAnswered()
    {
        var m = new SnapshotTimings(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(30)).ToMeasurements();
        Assert.Equal(["live snapshot", "restore", "restore to console answer"], m.Select(x => x.Metric));
        Assert.Equal([5000.0, 200.0, 30.0], m.Select(x => x.Value));
        Assert.All(m, x => Assert.False(x.HigherIsBetter));
    }

    [Fact]
    public void NoAnswerTimeWhenTheConsoleStayedSilent()
    {
        var m = new SnapshotTimings(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200), null).ToMeasurements();
        Assert.Equal(["live snapshot", "restore"], m.Select(x => x.Metric));
    }
}
