namespace Vessel.Cli.Benchmarks;

/// <summary>
/// <c>vessel bench SUITE... [options]</c>: one suite goes to that suite's command (with all its own options);
/// several go to <c>bench all SUITE...</c>, which runs them in turn with the shared options.
/// </summary>
public static class BenchCommandLine
{
    /// <summary>Every suite, in the order <c>vessel bench</c> runs them.</summary>
    public static readonly IReadOnlyList<string> Suites = ["boot", "cpu", "disk", "net", "memory", "snapshot", "density"];

    /// <summary>Rewrites <c>bench A B ...</c> (two or more suite names) to <c>bench all A B ...</c>; other arguments pass unchanged.</summary>
    public static string[] Normalize(string[] args) =>
        args.Length >= 3 && args[0] == "bench" && Suites.Contains(args[1]) && Suites.Contains(args[2])
            ? ["bench", "all", .. args[1..]]
            : args;
}
