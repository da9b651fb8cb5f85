using System.ComponentModel;
using System.Diagnostics;

namespace Vessel.Images;

/// <summary>
/// Runs a host program (gpgv, dpkg-deb, xz) with an argument list — never through a shell — and turns a missing
/// program or a non-zero exit into a one-line <see cref="GuestKitException"/>.
/// </summary>
internal static class HostTool
{
    /// <summary>Runs the tool and returns its exit code, standard output and standard error as text.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string tool, IEnumerable<string> arguments, string debianPackage, CancellationToken cancellationToken)
    {
        using Process process = Start(tool, arguments, debianPackage);
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        await WaitAsync(process, cancellationToken).ConfigureAwait(false);
        return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>Runs the tool, copies its standard output to <paramref name="destination"/>, and throws unless it exits 0.</summary>
    public static async Task RunToStreamAsync(
        string tool, IEnumerable<string> arguments, string debianPackage, Stream destination, CancellationToken cancellationToken)
    {
        using Process process = Start(tool, arguments, debianPackage);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.BaseStream.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        await WaitAsync(process, cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(tool, process.ExitCode, await error.ConfigureAwait(false));
    }

    /// <summary>Runs the tool and throws unless it exits 0.</summary>
    public static async Task RunCheckedAsync(string tool, IEnumerable<string> arguments, string debianPackage, CancellationToken cancellationToken)
    {
        var (exitCode, _, error) = await RunAsync(tool, arguments, debianPackage, cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(tool, exitCode, error);
    }

    private static Process Start(string tool, IEnumerable<string> arguments, string debianPackage)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Untranslated messages, so errors read the same everywhere.
        info.Environment["LC_ALL"] = "C";
        try
        {
            return Process.Start(info) ?? throw new GuestKitException($"could not start {tool}.");
        }
        catch (Win32Exception ex)
        {
            throw new GuestKitException($"could not run '{tool}' ({ex.Message}); install the Debian package '{debianPackage}'.", ex);
        }
    }

    private static async Task WaitAsync(Process process, CancellationToken cancellationToken)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            throw;
        }
    }

    private static void ThrowIfFailed(string tool, int exitCode, string error)
    {
        if (exitCode != 0)
        {
            string detail = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? string.Empty;
            throw new GuestKitException($"{tool} failed (exit code {exitCode}){(detail.Length > 0 ? ": " + detail : string.Empty)}.");
        }
    }
}
