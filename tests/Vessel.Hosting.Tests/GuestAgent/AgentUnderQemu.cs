using System.Diagnostics;
using Vessel.Hosting.GuestAgent;
using Vessel.Images;

namespace Vessel.Hosting.Tests.GuestAgent;

/// <summary>The real guest agent binary (as embedded in the initramfs) run by qemu-riscv64 on pipes, with a client attached.</summary>
internal sealed class AgentUnderQemu : IDisposable
{
    private readonly Process _process;
    private readonly string _binary;
    private readonly Task _reader;

    public AgentUnderQemu()
    {
        _binary = Path.Combine(Path.GetTempPath(), $"vessel-agent-{Guid.NewGuid():N}");
        File.WriteAllBytes(_binary, GuestAgentBinary.Load());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_binary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var psi = new ProcessStartInfo(QemuPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(_binary);
        psi.ArgumentList.Add("-");
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        Client = new GuestAgentClient(SendAsync);
        _reader = Task.Run(async () =>
        {
            byte[] buffer = new byte[65536];
            var stdout = _process.StandardOutput.BaseStream;
            int n;
            while ((n = await stdout.ReadAsync(buffer)) > 0)
            {
                Client.OnGuestOutput(buffer.AsSpan(0, n));
            }
        });
    }

    public static string? QemuPath { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(d => Path.Combine(d, "qemu-riscv64")).FirstOrDefault(File.Exists);

    public GuestAgentClient Client { get; }

    /// <summary>Raw bytes straight to the agent, for garbage.</summary>
    public async Task SendAsync(byte[] data, CancellationToken cancellationToken)
    {
        await _process.StandardInput.BaseStream.WriteAsync(data, cancellationToken);
        await _process.StandardInput.BaseStream.FlushAsync(cancellationToken);
    }

    public void Dispose()
    {
        try
        {
            _process.Kill();
            _process.WaitForExit(5000);
            _reader.Wait(5000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        File.Delete(_binary);
    }
}
