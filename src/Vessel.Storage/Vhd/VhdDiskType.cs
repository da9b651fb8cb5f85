namespace Vessel.Storage.Vhd;

/// <summary>The footer's "Disk Type" field (VHD specification, "Hard Disk Footer Format"); other values are reserved.</summary>
public enum VhdDiskType : uint
{
    Fixed = 2,
    Dynamic = 3,
    Differencing = 4,
}
