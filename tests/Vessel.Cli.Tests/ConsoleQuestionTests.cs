using System.Diagnostics;
using Vessel.Cli.Benchmarks;

namespace Vessel.Cli.Tests;

public sealed class ConsoleQuestionTests
{
    [Fact]
    public void TheEchoedCommandLineDoesNotContainTheAnswer()
    {
        var question = new ConsoleQuestion("SNAP", 3);
        Assert.Equal("echo SNAP-3-$((3*7))\n", question.Command);
        Assert.Equal("SNAP-3-21", question.Answer);
        Assert.DoesNotContain(question.Answer, question.Command, StringComparison.Ordinal);
    }

    [Fact]
    public void AnswerFromAShellIsTimed()
    {
        var console = new ConsoleMarkerWatch(null, Stopwatch.StartNew());
        console.Append("~ # ".AsSpan());
        var question = new ConsoleQuestion("SNAP", 2);

        // A shell that echoes the line, then after 30 ms prints the expanded result.
        TimeSpan? answered = question.Ask(
            console,
            line =>
            {
                console.Append(line.AsSpan());
                _ = Task.Delay(30).ContinueWith(_ => console.Append("SNAP-2-14\n~ # ".AsSpan()), TaskScheduler.Default);
            },
            TimeSpan.FromSeconds(10),
            CancellationToken.None);

        Assert.NotNull(answered);
        Assert.InRange(answered.Value, TimeSpan.FromMilliseconds(25), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void AnswerAlreadyOnTheConsoleBeforeTheQuestionDoesNotCount()
    {
        var console = new ConsoleMarkerWatch(null, Stopwatch.StartNew());
        console.Append("SNAP-1-7\n".AsSpan()); // an earlier run's answer
        int typed = 0;
        TimeSpan? answered = new ConsoleQuestion("SNAP", 1).Ask(console, line => typed++, TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.Null(answered);
        Assert.Equal(1, typed);
    }

    [Fact]
    public void ASilentShellTimesOutAndIsAskedAgain()
    {
        var console = new ConsoleMarkerWatch(null, Stopwatch.StartNew());
        int typed = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan? answered = new ConsoleQuestion("SNAP", 1).Ask(console, line => typed++, ConsoleQuestion.RetypeInterval + TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Null(answered);
        Assert.Equal(2, typed);
        Assert.True(clock.Elapsed >= ConsoleQuestion.RetypeInterval);
    }

    [Fact]
    public void SnapshotTimingsReportMillisecondsWhereLowerIsBetter()
    {
        var timings = new SnapshotTimings(TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(12.5));
        var measured = timings.ToMeasurements();
        Assert.Equal(["live snapshot", "restore", "restore to console answer"], measured.Select(m => m.Metric));
        Assert.Equal([250, 40, 12.5], measured.Select(m => m.Value));
        Assert.All(measured, m => Assert.False(m.HigherIsBetter));
        Assert.All(measured, m => Assert.Equal("ms", m.Unit));
    }
}
