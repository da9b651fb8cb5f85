namespace Vessel.Storage;

/// <summary>A disk image cannot be opened or created: missing file, unknown format, malformed or unsupported image.</summary>
public sealed class DiskImageException : Exception
{
    public DiskImageException(string message)
        : base(message)
    {
    }

    public DiskImageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
