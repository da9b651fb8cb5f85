namespace Vessel.Storage.Qcow2;

/// <summary>What <see cref="Qcow2Repairer"/> may fix, as <c>qemu-img check -r leaks|all</c>.</summary>
public enum Qcow2RepairMode
{
    /// <summary>Only refcounts above the references (leaked clusters): always safe.</summary>
    Leaks,

    /// <summary>Leaks, refcounts below the references, COPIED flags, and the dirty/corrupt bits.</summary>
    All,
}
