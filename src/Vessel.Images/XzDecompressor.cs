namespace Vessel.Images;

/// <summary>Decompresses .xz files (Packages.xz, kernel modules' .ko.xz) with the host's xz(1) from xz-utils.</summary>
internal static class XzDecompressor
{
    /// <summary>Decompresses <paramref name="xzPath"/> into <paramref name="destination"/>.</summary>
    public static Task DecompressAsync(string xzPath, Stream destination, CancellationToken cancellationToken) =>
        HostTool.RunToStreamAsync("xz", ["--decompress", "--stdout", "--", xzPath], "xz-utils", destination, cancellationToken);

    /// <summary>The decompressed bytes of <paramref name="xzPath"/>.</summary>
    public static async Task<byte[]> DecompressAsync(string xzPath, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await DecompressAsync(xzPath, buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
