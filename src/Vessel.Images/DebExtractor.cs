namespace Vessel.Images;

/// <summary>Unpacks the file tree of a .deb (its data.tar member, deb(5)) with the host's dpkg-deb(1).</summary>
internal static class DebExtractor
{
    public static Task ExtractAsync(string debPath, string destinationDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destinationDirectory);
        return HostTool.RunCheckedAsync("dpkg-deb", ["--extract", debPath, destinationDirectory], "dpkg", cancellationToken);
    }
}
