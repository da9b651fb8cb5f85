using System.Diagnostics;
using System.Text;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// Runs the real <c>vessel</c> CLI (built next to the tests) as a child process with piped stdin/stdout, the
/// way a script would, and lets a test wait for console output.
/// </summary>
internal sealed class VesselProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _lock = new();
    private readonly SemaphoreSlim _changed = new(0);

    private VesselProcess(Process process)
    {
        _process = process;
    }

    public static VesselProcess Start(params string[] arguments)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "vessel.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(cli);
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start vessel");
        var vessel = new VesselProcess(process);
        _ = vessel.PumpAsync(process.StandardOutput);
        _ = vessel.PumpAsync(process.StandardError);
        return vessel;
    }

    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    public async Task SendAsync(string text)
    {
        await _process.StandardInput.WriteAsync(text);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits until the output (after <paramref name="from"/>) contains <paramref name="text"/>; returns the index after it.</summary>
    public async Task<int> WaitForAsync(string text, TimeSpan timeout, int from = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string output = Output;
            int at = output.IndexOf(text, Math.Min(from, output.Length), StringComparison.Ordinal);
            if (at >= 0)
            {
                return at + text.Length;
            }

            if (_process.HasExited)
            {
                await Task.Delay(200); // let the pumps drain
                output = Output;
                at = output.IndexOf(text, Math.Min(from, output.Length), StringComparison.Ordinal);
                if (at >= 0)
                {
                    return at + text.Length;
                }

                throw new Xunit.Sdk.XunitException($"vessel exited ({_process.ExitCode}) before printing \"{text}\". Output:\n{Tail(output)}");
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new Xunit.Sdk.XunitException($"no \"{text}\" within {timeout.TotalSeconds:F0} s. Output:\n{Tail(output)}");
            }

            await _changed.WaitAsync(left < TimeSpan.FromMilliseconds(500) ? left : TimeSpan.FromMilliseconds(500));
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"vessel did not exit within {timeout.TotalSeconds:F0} s. Output:\n{Tail(Output)}");
        }

        await Task.Delay(100);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process gets no chance to flush or close anything (a host crash, as far as it can tell).</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static string Tail(string s) => s.Length <= 4000 ? s : "..." + s[^4000..];

    private async Task PumpAsync(StreamReader reader)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            lock (_lock)
            {
                _output.Append(buffer, 0, n);
            }

            _changed.Release();
        }
    }
}
