namespace Vessel.Storage.Vmdk;

/// <summary>An extent's access mode as the descriptor names it: RW, RDONLY or NOACCESS.</summary>
internal enum VmdkExtentAccess
{
    ReadWrite,
    ReadOnly,
    NoAccess,
}
