using System.Diagnostics;
using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

public sealed class ConsoleMarkerWatchTests
{
    [Fact]
    public void MarkerTypedOneCharacterAtATimeIsSeen()
    {
        var watch = new ConsoleMarkerWatch("guest ready", Stopwatch.StartNew());
        foreach (char c in "booting...\nVessel guest read")
        {
            watch.Append(c);
        }

        Assert.Null(watch.MarkerSeen);
        watch.Append('y');
        Assert.NotNull(watch.MarkerSeen);
        Assert.Equal("booting...\nVessel guest ready", watch.Text);
    }

    [Fact]
    public void MarkerSplitAcrossChunksIsSeenAndPartialRepeatsAreNot()
    {
        var watch = new ConsoleMarkerWatch("abcab", Stopwatch.StartNew());
        watch.Append("xxabca".AsSpan());
        watch.Append("abca".AsSpan());
        Assert.Null(watch.MarkerSeen);
        watch.Append("bz".AsSpan());
        Assert.NotNull(watch.MarkerSeen);
    }

    [Fact]
    public void FirstSightingIsKept()
    {
        var clock = Stopwatch.StartNew();
        var watch = new ConsoleMarkerWatch("ok", clock);
        watch.Append("ok".AsSpan());
        var first = watch.MarkerSeen;
        Thread.Sleep(20);
        watch.Append(" ok".AsSpan());
        Assert.Equal(first, watch.MarkerSeen);
    }

    [Fact]
    public void ContainsLooksOnlyAfterTheGivenIndex()
    {
        var watch = new ConsoleMarkerWatch(null, Stopwatch.StartNew());
        watch.Append("echo ALIVE\nALIVE\n".AsSpan());
        Assert.Equal(17, watch.Length);
        Assert.True(watch.Contains("ALIVE", 10));
        Assert.False(watch.Contains("echo", 1));
        Assert.False(watch.Contains("x", 1000));
        Assert.Null(watch.MarkerSeen);
    }
}
