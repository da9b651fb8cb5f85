using System.Diagnostics;
using System.Globalization;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// Asks a guest's shell whether it answers: types <c>echo TAG-N-$((N*7))</c> and waits for <c>TAG-N-7N</c>, which
/// only the shell's output contains (the echoed command line has the unexpanded arithmetic). Timed to about a
/// millisecond, so it can measure how soon a restored guest responds.
/// </summary>
public sealed class ConsoleQuestion(string tag, int number)
{
    /// <summary>How often the line is typed again while no answer comes (keys sent during a restore may be lost).</summary>
    public static readonly TimeSpan RetypeInterval = TimeSpan.FromSeconds(5);

    public string Command { get; } = string.Create(CultureInfo.InvariantCulture, $"echo {tag}-{number}-$(({number}*7))\n");

    public string Answer { get; } = string.Create(CultureInfo.InvariantCulture, $"{tag}-{number}-{number * 7}");

    /// <summary>
    /// Types the question with <paramref name="type"/> and returns the time until the answer shows on
    /// <paramref name="console"/>, or null after <paramref name="timeout"/>.
    /// </summary>
    public TimeSpan? Ask(ConsoleMarkerWatch console, Action<string> type, TimeSpan timeout, CancellationToken cancellationToken)
    {
        int from = console.Length;
        var clock = Stopwatch.StartNew();
        var lastTyped = clock.Elapsed;
        type(Command);
        while (clock.Elapsed < timeout)
        {
            if (console.Contains(Answer, from))
            {
                return clock.Elapsed;
            }

            if (clock.Elapsed - lastTyped >= RetypeInterval)
            {
                lastTyped = clock.Elapsed;
                type(Command);
            }

            cancellationToken.WaitHandle.WaitOne(1);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return console.Contains(Answer, from) ? clock.Elapsed : null;
    }
}
