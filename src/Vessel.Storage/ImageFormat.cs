namespace Vessel.Storage;

/// <summary>The on-disk formats Vessel recognises, reads and writes (detected by content, see <see cref="ImageFormatDetector"/>).</summary>
public enum ImageFormat
{
    Raw,
    Qcow2,
    Vhd,
    Vmdk,
    Vdi,
}
