namespace Vessel.Storage;

/// <summary>The on-disk formats Vessel recognises. <see cref="Raw"/>, <see cref="Qcow2"/> and <see cref="Vhd"/> can be opened so far.</summary>
public enum ImageFormat
{
    Raw,
    Qcow2,
    Vhd,
    Vmdk,
    Vdi,
}
