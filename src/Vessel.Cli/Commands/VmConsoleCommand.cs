using System.Net.Sockets;
using Vessel.Cli.Hosting;
using Vessel.Cli.Terminal;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel vm console NAME</c>: attaches this terminal (raw mode) to a running VM's serial console; Ctrl-A D
/// detaches and leaves the VM running, Ctrl-A A sends a literal Ctrl-A. The escape works on piped input too, so
/// scripts can detach the same way.
/// </summary>
public sealed class VmConsoleCommand : ApiCommand<VmNameSettings>
{
    private const byte EscapeByte = 0x01;

    protected override async Task<int> RunAsync(VesselApiClient client, VmNameSettings settings, CancellationToken cancellationToken)
    {
        var vm = await client.GetJsonAsync(HttpMethod.Get, $"api/vms/{Uri.EscapeDataString(settings.Name)}");
        string state = vm.GetProperty("state").GetString()!;
        if (state is not ("running" or "starting"))
        {
            throw new VesselApiException($"VM '{settings.Name}' is {state}; start it first");
        }

        string path = vm.GetProperty("consoleSocket").GetString()!;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken); // a starting worker opens its console socket shortly
            }
            catch (SocketException e)
            {
                throw new VesselApiException($"cannot attach to {path}: {e.Message}");
            }
        }

        using var raw = TerminalRawMode.Enter();
        var stdout = System.Console.OpenStandardOutput();
        Notice(stdout, $"vessel: attached to {settings.Name} (Ctrl-A D detaches)\n");
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var output = Task.Run(async () =>
        {
            byte[] buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, done.Token)) > 0)
                {
                    stdout.Write(buffer, 0, n);
                    stdout.Flush();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }

            return false; // the VM went away
        });
        var inputEnded = new TaskCompletionSource();
        var input = new Thread(() =>
        {
            PumpInput(socket, done);
            inputEnded.TrySetResult();
        })
        { IsBackground = true, Name = "vessel-console-attach" };
        input.Start();
        bool vmEnded = await Task.WhenAny(output, inputEnded.Task) == output;
        done.Cancel();
        raw?.Dispose();
        Notice(stdout, vmEnded ? "\nvessel: the VM's console closed (the VM stopped)\n" : $"\nvessel: detached from {settings.Name}; it keeps running\n");
        return 0;
    }

    private static void PumpInput(Socket socket, CancellationTokenSource done)
    {
        using var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1);
        var buffer = new byte[4096];
        bool escape = false;
        try
        {
            while (!done.IsCancellationRequested)
            {
                int n = stdin.Read(buffer, 0, buffer.Length);
                if (n <= 0)
                {
                    // End of piped input: give the guest a moment to answer, then detach.
                    Thread.Sleep(2000);
                    break;
                }

                var toGuest = new List<byte>(n);
                for (int i = 0; i < n; i++)
                {
                    byte b = buffer[i];
                    if (escape)
                    {
                        escape = false;
                        if (b is (byte)'d' or (byte)'D')
                        {
                            socket.Send(toGuest.ToArray());
                            done.Cancel();
                            return;
                        }

                        if (b is EscapeByte or (byte)'a')
                        {
                            toGuest.Add(EscapeByte);
                        }

                        continue;
                    }

                    if (b == EscapeByte)
                    {
                        escape = true;
                        continue;
                    }

                    toGuest.Add(b);
                }

                socket.Send(toGuest.ToArray());
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }

        done.Cancel();
    }

    private static void Notice(Stream stdout, string text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text.Replace("\n", "\r\n"));
        stdout.Write(bytes);
        stdout.Flush();
    }
}
