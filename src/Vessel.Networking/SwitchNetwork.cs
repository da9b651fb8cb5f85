using System.Text.RegularExpressions;

namespace Vessel.Networking;

/// <summary>
/// Virtual L2 switches joined by name, across processes (<c>--net switch:NAME</c>).
/// </summary>
/// <remarks>
/// Design: every port owns a Unix datagram socket <c>DIR/NAME.PID.N.port</c> and sends each frame as one datagram
/// to the switch's hub socket <c>DIR/NAME.sock</c>. The hub runs inside whichever port process holds the
/// exclusive lock on <c>DIR/NAME.lock</c>: the first port to start takes it, and when that process goes away
/// the kernel releases the lock and the next port to try (each tries once a second) becomes the hub. Ports say
/// hello once a second, so a new hub knows all ports within a second and forgets dead ones after a few. The hub
/// learns source MAC → port, forwards known unicast to one port, floods broadcast, multicast and unknown
/// unicast to all others, and ages entries. Datagram sockets keep frame boundaries, need no connection state,
/// and a full receiver queue holds the sender back for a few milliseconds at most, then drops the frame (like a
/// congested switch) rather than blocking anyone for long (see <see cref="DatagramBackpressure"/>).
/// DIR is <c>$XDG_RUNTIME_DIR/vessel/switch</c>, else <c>/tmp/vessel-UID/switch</c>, created with mode 0700.
/// </remarks>
public static partial class SwitchNetwork
{
    /// <summary>Connects a new port to the switch called <paramref name="name"/> (created on first use).</summary>
    public static SwitchPort Connect(string name, string? runtimeDirectory = null) => new(name, runtimeDirectory);

    public static string DefaultRuntimeDirectory()
    {
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtime) || !Directory.Exists(runtime)
            ? Path.Combine(Path.GetTempPath(), $"vessel-{GetUserId()}", "switch")
            : Path.Combine(runtime, "vessel", "switch");
    }

    internal static void ValidateName(string name)
    {
        if (!SwitchName().IsMatch(name))
        {
            throw new NetworkConfigurationException(
                $"switch name '{name}' must be 1-64 characters of letters, digits, '.', '_' or '-', not starting with '.'");
        }
    }

    internal static string PrepareDirectory(string? runtimeDirectory)
    {
        string directory = runtimeDirectory ?? DefaultRuntimeDirectory();
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                // Private to the user: anyone who can reach the sockets can join the switch.
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NetworkConfigurationException($"cannot create switch directory '{directory}': {e.Message}", e);
        }
        return directory;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetUserId();

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SwitchName();
}
