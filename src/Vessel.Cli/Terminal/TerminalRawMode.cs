using System.Runtime.InteropServices;

namespace Vessel.Cli.Terminal;

/// <summary>
/// Puts the controlling terminal into raw mode (POSIX termios via libc's tcgetattr/cfmakeraw/tcsetattr: no echo,
/// no line editing, no signals) so the guest owns it, and restores the saved settings on <see cref="Dispose"/>,
/// on unhandled exceptions and at process exit.
/// </summary>
public sealed partial class TerminalRawMode : IDisposable
{
    private const int StandardInput = 0;
    private const int TcsaNow = 0;
    private const int TermiosBytes = 256; // larger than struct termios on every Linux ABI

    private readonly byte[] _saved;
    private int _restored;

    private TerminalRawMode(byte[] saved)
    {
        _saved = saved;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Restore();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => Restore();
    }

    /// <summary>Enters raw mode, or returns null when stdin is not a terminal.</summary>
    public static unsafe TerminalRawMode? Enter()
    {
        if (System.Console.IsInputRedirected || !OperatingSystem.IsLinux())
        {
            return null;
        }

        var saved = new byte[TermiosBytes];
        var raw = new byte[TermiosBytes];
        fixed (byte* s = saved)
        fixed (byte* r = raw)
        {
            if (TcGetAttr(StandardInput, s) != 0)
            {
                return null;
            }

            Buffer.MemoryCopy(s, r, TermiosBytes, TermiosBytes);
            CfMakeRaw(r);
            if (TcSetAttr(StandardInput, TcsaNow, r) != 0)
            {
                return null;
            }
        }

        return new TerminalRawMode(saved);
    }

    public void Dispose() => Restore();

    private unsafe void Restore()
    {
        if (Interlocked.Exchange(ref _restored, 1) == 0)
        {
            fixed (byte* s = _saved)
            {
                _ = TcSetAttr(StandardInput, TcsaNow, s);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "tcgetattr")]
    private static unsafe partial int TcGetAttr(int fd, byte* termios);

    [LibraryImport("libc", EntryPoint = "tcsetattr")]
    private static unsafe partial int TcSetAttr(int fd, int optionalActions, byte* termios);

    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    private static unsafe partial void CfMakeRaw(byte* termios);
}
