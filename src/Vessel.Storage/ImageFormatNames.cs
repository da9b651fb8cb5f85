namespace Vessel.Storage;

/// <summary>Format names as users and qcow2's backing_fmt write them (QEMU's spelling: "vpc" is VHD).</summary>
public static class ImageFormatNames
{
    public static string ToName(this ImageFormat format) => format switch
    {
        ImageFormat.Raw => "raw",
        ImageFormat.Qcow2 => "qcow2",
        ImageFormat.Vhd => "vpc",
        ImageFormat.Vmdk => "vmdk",
        ImageFormat.Vdi => "vdi",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static bool TryParse(string? name, out ImageFormat format)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "raw":
                format = ImageFormat.Raw;
                return true;
            case "qcow2":
                format = ImageFormat.Qcow2;
                return true;
            case "vpc" or "vhd":
                format = ImageFormat.Vhd;
                return true;
            case "vmdk":
                format = ImageFormat.Vmdk;
                return true;
            case "vdi":
                format = ImageFormat.Vdi;
                return true;
            default:
                format = ImageFormat.Raw;
                return false;
        }
    }

    /// <summary>Parses a name the caller wants to open, or throws a <see cref="DiskImageException"/> saying why not.</summary>
    public static ImageFormat ParseSupported(string name)
    {
        if (!TryParse(name, out var format))
        {
            throw new DiskImageException($"unknown image format '{name}' (supported: raw, qcow2, vpc, vmdk, vdi)");
        }

        if (format is not (ImageFormat.Raw or ImageFormat.Qcow2 or ImageFormat.Vhd or ImageFormat.Vmdk or ImageFormat.Vdi))
        {
            throw new DiskImageException($"image format '{name}' is not supported yet (supported: raw, qcow2, vpc, vmdk, vdi)");
        }

        return format;
    }
}
