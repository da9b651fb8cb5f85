namespace Vessel.Storage.Qcow2;

/// <summary>What an L2 entry says about one guest cluster (QEMU docs/interop/qcow2.txt, "Cluster mapping").</summary>
public enum Qcow2ClusterKind
{
    /// <summary>Not in this image: the backing file (or zeroes) shows through.</summary>
    Unallocated,

    /// <summary>Reads as zeroes (v3 zero flag), possibly with a preallocated host cluster.</summary>
    Zero,

    /// <summary>A normal host cluster.</summary>
    Data,

    /// <summary>A compressed cluster (no host offset of its own).</summary>
    Compressed,
}
