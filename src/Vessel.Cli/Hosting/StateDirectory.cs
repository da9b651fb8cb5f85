namespace Vessel.Cli.Hosting;

/// <summary>The supervisor's state directory: --state-dir, else ~/.local/share/vessel (XDG data home).</summary>
public static class StateDirectory
{
    public static string Resolve(string? given)
    {
        if (given is not null)
        {
            return Path.GetFullPath(given);
        }

        string data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "vessel");
    }

    /// <summary>How to run this same vessel binary as a worker: the apphost, or dotnet plus vessel.dll.</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string process = Environment.ProcessPath ?? "vessel";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, typeof(StateDirectory).Assembly.Location]
            : [process];
    }
}
