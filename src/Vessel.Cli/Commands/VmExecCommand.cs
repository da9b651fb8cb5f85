using System.ComponentModel;
using Spectre.Console.Cli;
using Vessel.Cli.Hosting;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel vm exec NAME [--timeout S] [--stdin] -- CMD ARGS...</c>: runs a command in the guest through its agent,
/// writes the guest's stdout and stderr to this process's own and exits with the command's status (128 + N when a
/// signal killed it, 124 when it ran past the timeout, like timeout(1)).
/// </summary>
public sealed class VmExecCommand : ApiCommand<VmExecCommand.Settings>
{
    private const int TimedOutStatus = 124;
    private const int MaxStdin = 1 << 20;
    private IReadOnlyList<string> _argv = [];

    public sealed class Settings : VmNameSettings
    {
        [CommandOption("--timeout <SECONDS>")]
        [Description("Longest the call may take, waiting for the guest agent included (1-3600, default 60).")]
        public int Timeout { get; init; } = 60;

        [CommandOption("--stdin")]
        [Description("Send this process's stdin (read to its end, at most 1 MiB) to the command.")]
        public bool Stdin { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        // Everything after "--" is the guest command, untouched by option parsing.
        _argv = [.. context.Remaining.Raw];
        if (_argv.Count == 0)
        {
            System.Console.Error.WriteLine("vessel vm exec: no command given; usage: vessel vm exec NAME [--timeout S] -- CMD [ARGS...]");
            return Task.FromResult(2);
        }

        return base.ExecuteAsync(context, settings, cancellationToken);
    }

    protected override async Task<int> RunAsync(VesselApiClient client, Settings settings, CancellationToken cancellationToken)
    {
        string? stdin = null;
        if (settings.Stdin)
        {
            char[] buffer = new char[MaxStdin + 1];
            int n = await System.Console.In.ReadBlockAsync(buffer, cancellationToken);
            if (n > MaxStdin)
            {
                throw new VesselApiException($"stdin is over {MaxStdin} bytes, the most the guest agent takes");
            }

            stdin = new string(buffer, 0, n);
        }

        // The server answers within the timeout plus the agent's grace; wait that long, and a little more.
        client.Timeout = TimeSpan.FromSeconds(Math.Clamp(settings.Timeout, 1, 3600) + 60);
        var result = await client.GetJsonAsync(HttpMethod.Post, $"api/vms/{Uri.EscapeDataString(settings.Name)}/exec",
            new { argv = _argv, stdin, timeoutSeconds = settings.Timeout });
        if (settings.Json)
        {
            System.Console.WriteLine(result.GetRawText());
        }
        else
        {
            await WriteAsync(System.Console.OpenStandardOutput(), result.GetProperty("stdout").GetString()!, cancellationToken);
            await WriteAsync(System.Console.OpenStandardError(), result.GetProperty("stderr").GetString()!, cancellationToken);
        }

        if (result.GetProperty("truncated").GetBoolean())
        {
            System.Console.Error.WriteLine("vessel vm exec: output truncated (the guest agent keeps at most 1 MiB of each stream)");
        }

        if (result.GetProperty("timedOut").GetBoolean())
        {
            System.Console.Error.WriteLine($"vessel vm exec: the command ran past its {settings.Timeout} s timeout and was killed");
            return TimedOutStatus;
        }

        return result.GetProperty("exitCode").GetInt32();
    }

    private static async Task WriteAsync(Stream stream, string text, CancellationToken cancellationToken)
    {
        // The bytes as the guest wrote them (UTF-8), not re-encoded by Console's text writer.
        await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }
}
