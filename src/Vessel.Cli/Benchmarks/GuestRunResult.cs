namespace Vessel.Cli.Benchmarks;

/// <summary>What a benchmark boot printed on its serial console, how long it took, and whether it ended cleanly.</summary>
public sealed record GuestRunResult(string Console, TimeSpan Wall, bool Completed, string? Error)
{
    /// <summary>When <see cref="GuestWorkload.Marker"/> first appeared on the console, from launch.</summary>
    public TimeSpan? MarkerSeen { get; init; }
}
