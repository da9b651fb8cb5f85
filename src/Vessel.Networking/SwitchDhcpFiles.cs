namespace Vessel.Networking;

/// <summary>
/// Where a switch keeps its DHCP state, beside its sockets: <c>NAME.dhcp</c> (the settings, written by the ports
/// that ask for DHCP) and <c>NAME.leases</c> (written by the hub). Files rather than memory because the hub moves
/// to another process when its holder exits.
/// </summary>
internal sealed class SwitchDhcpFiles
{
    private const int MaxSettingsBytes = 4096;

    public SwitchDhcpFiles(string directory, string name)
    {
        SettingsPath = Path.Combine(directory, name + ".dhcp");
        LeasesPath = Path.Combine(directory, name + ".leases");
    }

    public string SettingsPath { get; }

    public string LeasesPath { get; }

    /// <summary>The settings in force, or null if the switch has no DHCP (no file, or one that is not ours).</summary>
    public SwitchDhcpSettings? ReadSettings()
    {
        try
        {
            var info = new FileInfo(SettingsPath);
            return info.Exists && info.Length <= MaxSettingsBytes ? SwitchDhcpSettings.FromFileText(File.ReadAllText(SettingsPath)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Called by a port as it joins. On a switch nobody else is on, the port's wish replaces whatever an earlier run
    /// left; on a running switch, a port that asks for DHCP either matches the settings in force, adds them if there
    /// are none, or is refused.
    /// </summary>
    public void Configure(string switchName, SwitchDhcpSettings? requested, bool switchIsRunning)
    {
        try
        {
            if (!switchIsRunning && requested is null)
            {
                File.Delete(SettingsPath);
                return;
            }
            if (requested is null)
            {
                return;
            }
            if (switchIsRunning && ReadSettings() is { } current && current != requested)
            {
                throw new NetworkConfigurationException(
                    $"switch '{switchName}' already serves DHCP with {current}; this port asks for {requested} (use the same dhcp=/router= on every port, or none)");
            }
            string temporary = $"{SettingsPath}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, requested.ToFileText());
            File.Move(temporary, SettingsPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NetworkConfigurationException($"cannot write the DHCP settings of switch '{switchName}' at '{SettingsPath}': {e.Message}", e);
        }
    }
}
