using System.Diagnostics;
using Vessel.Hosting;

namespace Vessel.Hosting.Tests;

/// <summary>The fallback governor: the cap holds a busy hart near its share of a core; weights map to nice values.</summary>
public sealed class CpuGovernorTests
{
    [Theory]
    [InlineData(100, 0)]
    [InlineData(125, -1)]
    [InlineData(200, -3)]
    [InlineData(50, 3)]
    [InlineData(1, 19)]
    [InlineData(10000, -20)]
    public void WeightMapsToTheNiceOfTheNearestLoadWeight(int weight, int nice) => Assert.Equal(nice, CpuGovernor.NiceForWeight(weight));

    [Fact]
    public void CapOf25PercentKeepsABusyHartRunningAQuarterOfTheTime()
    {
        var governor = new CpuGovernor(100, 25);
        var wall = Stopwatch.StartNew();
        var busy = TimeSpan.Zero;
        while (wall.Elapsed < TimeSpan.FromSeconds(2))
        {
            // A "slice": spin 1 ms of guest work, then let the governor decide.
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(1))
            {
            }

            var ran = Stopwatch.GetElapsedTime(start);
            busy += ran;
            governor.AfterSlice(0, ran);
        }

        double share = busy / wall.Elapsed;
        Assert.InRange(share, 0.18, 0.32);
    }

    [Fact]
    public void NoCapNeverSleeps()
    {
        var governor = new CpuGovernor(100, null);
        Assert.False(governor.Caps);
        var wall = Stopwatch.StartNew();
        for (int i = 0; i < 1000; i++)
        {
            governor.AfterSlice(0, TimeSpan.FromMilliseconds(10));
        }

        Assert.True(wall.Elapsed < TimeSpan.FromSeconds(1), $"took {wall.Elapsed}");
    }
}
