using System.Text;
using System.Text.RegularExpressions;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// Reads what QEMU's human monitor (HMP) sends back for one command: its readline echoes every keystroke with
/// VT100 cursor moves, then CR LF, the command's output, and the next "(qemu) " prompt. HMP commands such as
/// <c>savevm</c>/<c>loadvm</c> print nothing on success and an error line otherwise.
/// </summary>
public static partial class QemuMonitorReply
{
    public const string Prompt = "(qemu) ";

    /// <summary>Whether <paramref name="received"/> ends with the prompt, i.e. the command has finished.</summary>
    public static bool IsComplete(string received) => received.EndsWith(Prompt, StringComparison.Ordinal);

    /// <summary>
    /// The command's output: the text between the echoed command line and the closing prompt, with escape
    /// sequences and carriage returns removed and surrounding blank lines trimmed.
    /// </summary>
    public static string Output(string received)
    {
        if (!IsComplete(received))
        {
            throw new FormatException("the monitor reply has not ended with its prompt yet");
        }

        string body = received[..^Prompt.Length];
        int echoEnd = body.IndexOf('\n', StringComparison.Ordinal);
        body = echoEnd < 0 ? string.Empty : body[(echoEnd + 1)..];
        return EscapeSequence().Replace(body, string.Empty).Replace("\r", string.Empty, StringComparison.Ordinal).Trim('\n', ' ');
    }

    /// <summary>
    /// The error a <c>savevm</c>/<c>loadvm</c> reply reports, or null when it succeeded (printed nothing). Any
    /// output counts as an error: both commands are silent on success in every QEMU version (HMP, qapi hmp-cmds).
    /// </summary>
    public static string? Error(string received)
    {
        string output = Output(received);
        return output.Length == 0 ? null : output;
    }

    /// <summary>The bytes to send for <paramref name="command"/>; a line break inside one would run two commands.</summary>
    public static byte[] Encode(string command) =>
        command.Length == 0 || command.Any(c => c is '\n' or '\r' || char.IsControl(c))
            ? throw new ArgumentException($"'{command}' is not one monitor command line", nameof(command))
            : Encoding.ASCII.GetBytes(command + "\n");

    /// <summary>CSI sequences (ESC [ params final) such as the cursor moves and line erases readline uses.</summary>
    [GeneratedRegex(@"\x1b\[[0-9;?]*[ -/]*[@-~]")]
    private static partial Regex EscapeSequence();
}
