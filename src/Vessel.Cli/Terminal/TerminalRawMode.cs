using System.Diagnostics;

namespace Vessel.Cli.Terminal;

/// <summary>
/// Puts the controlling terminal into raw mode (no echo, no line editing, no signals) so the guest owns it,
/// and restores the saved settings on <see cref="Dispose"/>, on Ctrl-C handling and at process exit.
/// Uses <c>stty</c>, which every Debian/Ubuntu system has, on the inherited stdin.
/// </summary>
public sealed class TerminalRawMode : IDisposable
{
    private readonly string? _saved;
    private int _restored;

    private TerminalRawMode(string saved)
    {
        _saved = saved;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Restore();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => Restore();
    }

    /// <summary>Enters raw mode, or returns null when stdin is not a terminal or stty is unavailable.</summary>
    public static TerminalRawMode? Enter()
    {
        if (System.Console.IsInputRedirected)
        {
            return null;
        }

        string? saved = Stty("-g");
        if (string.IsNullOrWhiteSpace(saved) || Stty("raw -echo") is null)
        {
            return null;
        }

        return new TerminalRawMode(saved.Trim());
    }

    public void Dispose() => Restore();

    private void Restore()
    {
        if (Interlocked.Exchange(ref _restored, 1) == 0 && _saved is not null)
        {
            Stty(_saved);
        }
    }

    private static string? Stty(string arguments)
    {
        try
        {
            var psi = new ProcessStartInfo("stty", arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = Process.Start(psi);
            if (p is null)
            {
                return null;
            }

            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
