namespace Vessel.Storage;

/// <summary>The on-disk formats Vessel recognises. Only <see cref="Raw"/> and <see cref="Qcow2"/> can be opened so far.</summary>
public enum ImageFormat
{
    Raw,
    Qcow2,
    Vhd,
    Vmdk,
    Vdi,
}
