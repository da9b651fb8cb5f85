using System.Text;
using Vessel.Devices;

namespace Vessel.Cli.Terminal;

/// <summary>
/// Connects the host's stdin/stdout to the guest's UART. Interactive: raw terminal, <c>Ctrl-A X</c> quits,
/// <c>Ctrl-A H</c> lists escapes, <c>Ctrl-A A</c> sends a literal Ctrl-A. Scripted: stdin is fed to the guest
/// once its driver has enabled receive interrupts, never faster than the UART's backlog allows.
/// </summary>
public sealed class SerialConsole
{
    private const byte EscapeByte = 0x01; // Ctrl-A
    private readonly Stream _stdout = System.Console.OpenStandardOutput();
    private readonly object _outputLock = new();
    private readonly PanicDetector _panic = new();

    /// <summary>Raised (once) when the guest kernel prints a panic message.</summary>
    public event Action? KernelPanicked;

    /// <summary>Raised when the user asks to quit (Ctrl-A X).</summary>
    public event Action? QuitRequested;

    /// <summary>UART transmit callback: guest output to stdout.</summary>
    public void WriteFromGuest(byte b)
    {
        lock (_outputLock)
        {
            _stdout.WriteByte(b);
            _stdout.Flush();
        }

        if (_panic.Feed(b))
        {
            KernelPanicked?.Invoke();
        }
    }

    public void WriteNotice(string text)
    {
        lock (_outputLock)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text.Replace("\n", "\r\n"));
            _stdout.Write(bytes);
            _stdout.Flush();
        }
    }

    /// <summary>Starts the background thread that reads stdin into the UART.</summary>
    public void StartInput(Uart16550 uart, bool interactive, CancellationToken cancellationToken)
    {
        var thread = new Thread(() => Pump(uart, interactive, cancellationToken)) { IsBackground = true, Name = "vessel-console-input" };
        thread.Start();
    }

    private void Pump(Uart16550 uart, bool interactive, CancellationToken cancellationToken)
    {
        // Not Console.OpenStandardInput: on a terminal .NET routes that through its own line editor, which
        // echoes and waits for Enter. The guest must see every byte as it is typed.
        using var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1);
        var buffer = new byte[4096];
        bool escape = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            int n;
            try
            {
                n = stdin.Read(buffer, 0, buffer.Length);
            }
            catch (IOException)
            {
                return;
            }

            if (n <= 0)
            {
                return; // EOF: the guest keeps running until it powers off
            }

            var toGuest = new List<byte>(n);
            for (int i = 0; i < n; i++)
            {
                byte b = buffer[i];
                if (!interactive)
                {
                    toGuest.Add(b);
                    continue;
                }

                if (escape)
                {
                    escape = false;
                    switch (char.ToLowerInvariant((char)b))
                    {
                        case 'x':
                            WriteNotice("\nvessel: quit (Ctrl-A X)\n");
                            QuitRequested?.Invoke();
                            return;
                        case 'h':
                            WriteNotice("\nvessel escapes: Ctrl-A X quit, Ctrl-A H this help, Ctrl-A A send Ctrl-A\n");
                            continue;
                        case (char)EscapeByte:
                        case 'a':
                            toGuest.Add(EscapeByte);
                            continue;
                        default:
                            continue;
                    }
                }

                if (b == EscapeByte)
                {
                    escape = true;
                    continue;
                }

                toGuest.Add(b);
            }

            Feed(uart, [.. toGuest], cancellationToken);
        }
    }

    private static void Feed(Uart16550 uart, ReadOnlySpan<byte> data, CancellationToken cancellationToken)
    {
        // Hold input until the guest's driver listens (receive interrupts on), then respect the backlog limit.
        int offset = 0;
        while (offset < data.Length && !cancellationToken.IsCancellationRequested)
        {
            if (!uart.ReceiverReady)
            {
                Thread.Sleep(20);
                continue;
            }

            int chunk = Math.Min(256, data.Length - offset);
            if (uart.TryEnqueueInput(data.Slice(offset, chunk)))
            {
                offset += chunk;
            }
            else
            {
                Thread.Sleep(5);
            }
        }
    }

    /// <summary>Spots "Kernel panic - not syncing" in the console stream without buffering it all.</summary>
    private sealed class PanicDetector
    {
        private static readonly byte[] Pattern = Encoding.ASCII.GetBytes("Kernel panic - not syncing");
        private int _matched;
        private bool _fired;

        public bool Feed(byte b)
        {
            if (_fired)
            {
                return false;
            }

            _matched = b == Pattern[_matched] ? _matched + 1 : (b == Pattern[0] ? 1 : 0);
            if (_matched == Pattern.Length)
            {
                _fired = true;
                return true;
            }

            return false;
        }
    }
}
