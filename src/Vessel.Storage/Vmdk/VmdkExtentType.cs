namespace Vessel.Storage.Vmdk;

/// <summary>Extent types Vessel opens: FLAT (and VMFS, the same on-disk layout), SPARSE (hosted "KDMV") and ZERO.</summary>
internal enum VmdkExtentType
{
    Flat,
    Sparse,
    Zero,
}
