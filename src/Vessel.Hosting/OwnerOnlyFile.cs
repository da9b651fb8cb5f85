namespace Vessel.Hosting;

/// <summary>Makes a file or socket readable and writable by its owner only (0600): sockets and the API token.</summary>
public static class OwnerOnlyFile
{
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
