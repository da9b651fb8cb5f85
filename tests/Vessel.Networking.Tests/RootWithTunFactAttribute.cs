namespace Vessel.Networking.Tests;

/// <summary>A fact that runs only as root on Linux with /dev/net/tun and the ip tool (creating a TAP device needs all three).</summary>
public sealed class RootWithTunFactAttribute : FactAttribute
{
    public RootWithTunFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/dev/net/tun")
            || !(File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip")))
        {
            Skip = "needs root, /dev/net/tun and the ip tool";
        }
    }
}
