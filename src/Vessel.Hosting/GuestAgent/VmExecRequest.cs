namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// <c>POST /api/vms/{name}/exec</c>: the command (argv[0] is looked up in the guest's PATH; no shell unless you run
/// one), optional UTF-8 text for its stdin, and how long the whole call may take (default 60 s, at most 3600 s),
/// waiting for the guest agent included.
/// </summary>
public sealed record VmExecRequest
{
    public const int DefaultTimeoutSeconds = 60;
    public const int MaxTimeoutSeconds = 3600;

    public IReadOnlyList<string>? Argv { get; init; }

    public string? Stdin { get; init; }

    public int? TimeoutSeconds { get; init; }

    /// <summary>The agent request, or <see cref="VmValidationException"/> naming each bad field.</summary>
    public GuestExecRequest ToAgentRequest()
    {
        var errors = new Dictionary<string, string[]>();
        int timeout = TimeoutSeconds ?? DefaultTimeoutSeconds;
        if (timeout is < 1 or > MaxTimeoutSeconds)
        {
            errors["timeoutSeconds"] = [$"timeoutSeconds must be between 1 and {MaxTimeoutSeconds}, not {timeout}"];
        }

        var request = new GuestExecRequest(Argv ?? [], System.Text.Encoding.UTF8.GetBytes(Stdin ?? string.Empty), TimeSpan.FromSeconds(Math.Clamp(timeout, 1, MaxTimeoutSeconds)));
        if (request.Validate() is { } problem)
        {
            errors[problem.StartsWith("stdin", StringComparison.Ordinal) ? "stdin" : "argv"] = [problem];
        }

        return errors.Count > 0 ? throw new VmValidationException(errors) : request;
    }
}
