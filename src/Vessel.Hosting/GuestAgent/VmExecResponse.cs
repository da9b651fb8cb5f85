namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// What <c>vessel vm exec</c> reports: the exit code (128 + N when killed by signal N, as a shell reports it), the
/// signal if any, stdout and stderr as UTF-8 text (invalid bytes replaced), whether either was cut at the agent's
/// 1 MiB limit, and whether the command was killed for running past its timeout.
/// </summary>
public sealed record VmExecResponse(int ExitCode, int? Signal, string Stdout, string Stderr, bool Truncated, bool TimedOut)
{
    public static VmExecResponse From(GuestExecResult result) => new(
        result.ExitCode, result.Signal, System.Text.Encoding.UTF8.GetString(result.Stdout), System.Text.Encoding.UTF8.GetString(result.Stderr),
        result.StdoutTruncated || result.StderrTruncated, result.TimedOut);
}
