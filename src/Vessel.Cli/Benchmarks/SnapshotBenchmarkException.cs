namespace Vessel.Cli.Benchmarks;

/// <summary>A snapshot round that could not be measured (the guest did not boot or answer, a monitor command failed).</summary>
public sealed class SnapshotBenchmarkException(string message) : Exception(message)
{
    /// <summary>The message with the last part of the guest's console appended, for diagnosing a failed run.</summary>
    public static SnapshotBenchmarkException WithConsole(string message, string console) =>
        new($"{message}; console tail:\n{(console.Length <= 2000 ? console : console[^2000..])}");
}
